"""The library: saved designs, measured profiles and probe runs, in one SQLite file.

>>> from resnet_explorer.store import Store          # doctest: +SKIP
>>> store = Store()                                  # $RESNET_EXPLORER_DB or the data dir
>>> store.save_design("my net", design, tags="cifar,baseline")
>>> run_id = store.start_run(design, {"lr": 0.1})
>>> store.append_steps(run_id, [{"step": 1, "loss": 2.3, "acc": 0.1}])
>>> store.finish_run(run_id, "completed")

Format, schema history and concurrency guarantees: docs/store.md.
"""

from resnet_explorer.store.errors import (
    BusyError,
    DamagedRowError,
    NameTakenError,
    NewerSchemaError,
    NotALibraryError,
    NotFoundError,
    StoreError,
)
from resnet_explorer.store.exchange import SCHEMA as EXPORT_SCHEMA
from resnet_explorer.store.exchange import ImportReport, dumps, loads
from resnet_explorer.store.library import Store
from resnet_explorer.store.paths import default_path
from resnet_explorer.store.recorder import RunRecorder
from resnet_explorer.store.records import Run, SavedDesign, SavedProfile, Step
from resnet_explorer.store.schema import SCHEMA_VERSION

__all__ = [
    "EXPORT_SCHEMA",
    "SCHEMA_VERSION",
    "BusyError",
    "DamagedRowError",
    "ImportReport",
    "NameTakenError",
    "NewerSchemaError",
    "NotALibraryError",
    "NotFoundError",
    "Run",
    "RunRecorder",
    "SavedDesign",
    "SavedProfile",
    "Step",
    "Store",
    "StoreError",
    "default_path",
    "dumps",
    "loads",
]
