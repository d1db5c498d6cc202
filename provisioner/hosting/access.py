"""Who may see and change a hosting account (service-rules.md, "Who is who").

Technicians see and change every account. A school's contacts see their own
school's accounts (another school's is reported as missing, so names do not
leak); only its nominated contacts may change them.
"""

from __future__ import annotations

from provisioner.errors import NotFound, NotNominated
from provisioner.hosting import services
from provisioner.hosting.models import HostingAccount


def accounts_visible_to(user) -> list[HostingAccount]:
    if user.is_staff:
        return services.list_accounts()
    return services.list_accounts(user.school)


def account_visible_to(user, name: str) -> HostingAccount:
    account = services.get_account(name)
    if not user.is_staff and account.school_id != user.school_id:
        raise NotFound(f"No hosting account named {name!r}", fields={"account": "unknown"})
    return account


def check_may_change(user, account: HostingAccount) -> None:
    """Technicians, and the nominated contacts of the account's school."""
    if user.is_staff:
        return
    if user.nominated and user.active and user.school_id == account.school_id:
        return
    names = [c.name for c in account.school.nominated_contacts]
    who = ", ".join(names) if names else "nobody yet (ask your head teacher to nominate)"
    raise NotNominated(
        f"only {account.school.name}'s nominated contacts may change its hosting: {who}. "
        "Ask one of them to make the change.",
        fields={"nominated_contacts": names},
    )
