# ruff: noqa: I001 - feature models are listed below the marker, in the order they were added
"""Every model module, imported once so metadata and migrations see them all.

Feature packages add their models module here (one line each).
"""

from provisioner.registry import models as registry_models  # noqa: F401
from provisioner.schools import models as schools_models  # noqa: F401
from provisioner.zones import models as zones_models  # noqa: F401

# -- feature models below this line --
from provisioner.cases import models as cases_models  # noqa: F401,E402
from provisioner.zones import history as zones_history  # noqa: F401,E402
from provisioner.dns_requests import models as dns_requests_models  # noqa: F401,E402
from provisioner.registry import lifecycle_models  # noqa: F401,E402
from provisioner.jobs import models as jobs_models  # noqa: F401,E402
from provisioner.hosting import models as hosting_models  # noqa: F401,E402
