"""At risk, breached, mail once per state during desk hours; the SLA report."""

from datetime import datetime
from zoneinfo import ZoneInfo

from provisioner.cases.chart import percent_met_svg
from provisioner.cases.report import report_csv, sla_report
from provisioner.cases.scan import scan_sla
from provisioner.cases.services import assign, resolve, set_status
from provisioner.mail.outbound import Mailer, MailError


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/London"))


def test_scan_marks_at_risk_then_breached_and_mails_once_each(new_case, tech, smtp_server):
    url, inbox = smtp_server
    send = Mailer(url, "it@provider.example").send
    case = new_case(impact="critical")  # Thu 15:00 -> due Fri 11:00 (4h)
    assign(case, tech, tech)

    result = scan_sla(london("2026-11-27 09:30"), send_mail=send)  # 2.5h used: 62%
    assert not case.at_risk and result.mailed == []

    result = scan_sla(london("2026-11-27 10:00"), send_mail=send)  # 3h used: 75%
    assert case.at_risk and result.at_risk == [case.reference]
    assert len(inbox) == 1 and inbox[0]["To"] == "tech@provider.example"
    assert "at risk" in inbox[0]["Subject"] and case.reference in inbox[0]["Subject"]

    scan_sla(london("2026-11-27 10:30"), send_mail=send)
    assert len(inbox) == 1  # once per state

    result = scan_sla(london("2026-11-27 11:00"), send_mail=send)
    assert case.breached and case.breached_at == london("2026-11-27 11:00")
    assert len(inbox) == 2 and "breached" in inbox[1]["Subject"]
    scan_sla(london("2026-11-27 11:30"), send_mail=send)
    assert len(inbox) == 2
    assert [e.kind for e in case.events if e.kind in ("at_risk", "breached")] == [
        "at_risk",
        "breached",
    ]


def test_breach_at_night_is_announced_at_next_opening(new_case, make_technician, smtp_server):
    url, inbox = smtp_server
    send = Mailer(url, "it@provider.example").send
    make_technician("a@provider.example")
    make_technician("b@provider.example")
    case = new_case("2026-11-27 13:30", impact="critical")  # Fri: due Mon 10:00 (2.5h + 1.5h)
    assert case.due_at == london("2026-11-30 10:00")
    scan_sla(london("2026-11-30 11:00"), send_mail=send)
    inbox.clear()
    case2 = new_case("2026-11-30 15:00", impact="critical")  # Mon: due Tue 11:00
    result = scan_sla(london("2026-12-02 02:00"), send_mail=send)  # Wed 02:00: desk shut
    assert case2.breached and not result.desk_open and inbox == []
    result = scan_sla(london("2026-12-02 08:30"), send_mail=send)
    assert result.mailed == [f"{case2.reference}:breached"]
    # nobody assigned: every technician hears
    assert sorted(inbox[0]["To"].split(", ")) == ["a@provider.example", "b@provider.example"]


def test_failed_mail_is_retried_next_scan(new_case, tech):
    case = new_case(impact="critical")
    sent = []

    def broken(message):
        raise MailError("relay down")

    result = scan_sla(london("2026-11-27 11:00"), send_mail=broken)
    assert case.breached and not case.breach_notified
    assert result.mail_failures == [case.reference]
    scan_sla(london("2026-11-27 11:05"), send_mail=sent.append)
    assert case.breach_notified and len(sent) == 1


def test_at_risk_threshold_per_priority(new_case, tech):
    case = new_case(impact="critical")
    sent = []
    scan_sla(london("2026-11-27 09:30"), send_mail=sent.append, thresholds={"P1": 0.5})
    assert case.at_risk


def test_paused_cases_do_not_breach(new_case, tech):
    case = new_case(impact="critical")
    set_status(case, "awaiting_school", tech, now=london("2026-11-26 15:30"))
    scan_sla(london("2026-11-30 15:00"), send_mail=[].append)
    assert not case.breached


def test_report_counts_met_breached_and_median_business_hours(new_case, tech):
    a = new_case("2026-11-23 09:00", impact="critical")  # due 13:00
    b = new_case("2026-11-23 09:00", impact="critical")
    c = new_case("2026-11-24 09:00", impact="critical")  # open, past due
    d = new_case("2026-11-24 09:00", impact="service_request")  # open, not yet due
    resolve(a, tech, now=london("2026-11-23 11:00"))  # 2 business hours, met
    resolve(b, tech, now=london("2026-11-24 09:30"))  # late
    rows = sla_report(now=london("2026-11-25 09:00"))
    p1 = [r for r in rows if r.priority == "P1"][0]
    assert (p1.month, p1.cases, p1.met, p1.breached) == ("2026-11", 3, 1, 2)
    assert round(p1.percent_met, 1) == 33.3
    # a: 2h; b: Mon 09:00-16:30 = 7.5h + Tue 08:30-09:30 = 1h -> 8.5h; median 5.25
    assert p1.median_hours == 5.25
    p4 = [r for r in rows if r.priority == "P4"][0]
    assert (p4.cases, p4.met, p4.breached, p4.percent_met) == (1, 0, 0, None)
    csv_text = report_csv(rows)
    assert csv_text.splitlines()[0] == (
        "month,priority,cases,met,breached,percent_met,median_resolution_business_hours"
    )
    assert "2026-11,P1,3,1,2,33.3,5.25" in csv_text.splitlines()
    svg = percent_met_svg(rows)
    assert svg.startswith("<svg") and "2026-11 P1: 33.3% met" in svg
    assert c.reference and d.reference
