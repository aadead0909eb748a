"""SQLModel tables, one module per aggregate. Importing this package registers them all (every module of the
package is imported below, so a new table module needs no line here to reach Alembic's metadata)."""

import importlib as _importlib
import pkgutil as _pkgutil

from app.models.cds import CdsFeedback, UsedJwtId
from app.models.condition import Condition, ConditionCode
from app.models.drug import Approval, Drug
from app.models.indication import Indication, IndicationSource, Study
from app.models.mechanism import Mechanism, MechanismSource
from app.models.regimen import DoseRange, Regimen
from app.models.revision import DatasetState, RecordChange, Revision
from app.models.search import SearchDocument
from app.models.source import Source
from app.models.target import Target

__all__ = [
    "Approval",
    "CdsFeedback",
    "Condition",
    "ConditionCode",
    "DatasetState",
    "DoseRange",
    "Drug",
    "Indication",
    "IndicationSource",
    "Mechanism",
    "MechanismSource",
    "RecordChange",
    "Regimen",
    "Revision",
    "SearchDocument",
    "Source",
    "Study",
    "Target",
    "UsedJwtId",
]

for _module in _pkgutil.iter_modules(__path__):
    _importlib.import_module(f"{__name__}.{_module.name}")
