"""libcgm for Python: cluster group membership with inspectable progress and
safe runtime retuning.

>>> import cgm
>>> with cgm.LocalCluster(3) as cluster:                       # doctest: +SKIP
...     print(cluster[0].query_status(2))
...     cluster[0].propose({cgm.Param.HEARTBEAT_INTERVAL: "200ms"})

The native module ``cgm._cgm`` (Rust, PyO3, abi3) wraps the libcgm runtime;
this package is the public, typed API.
"""

from . import _cgm
from ._enums import Param
from ._node import LocalCluster, LockHold, Node, StepHook, VetoHook, forward_logs
from ._outcome import ChangeOutcome, MemberAck, Outcome
from ._result import Result
from ._types import (
    ChangeCompleted,
    Config,
    DampedStatus,
    Event,
    LinkStatus,
    PeerStatus,
    ProtocolCompleted,
    ProtocolInfo,
    Refusal,
    Removed,
    Status,
    StepRequest,
    Suspected,
    VetoRequest,
    ViewChanged,
    ViewId,
    Waiting,
)
from ._values import ParamKey, ParamValue
from .errors import (
    AuthenticationError,
    Backpressure,
    CgmError,
    Closed,
    InvalidArgument,
    InvalidParameter,
    IoError,
    NoQuorum,
    NotMember,
    RolledBack,
    Timeout,
    VersionMismatch,
    Vetoed,
)

__version__: str = _cgm.__version__

__all__ = [
    "__version__",
    # the node
    "Node",
    "Config",
    "LocalCluster",
    "LockHold",
    "VetoHook",
    "StepHook",
    "forward_logs",
    # enums
    "Param",
    "Result",
    "ParamKey",
    "ParamValue",
    # values
    "Status",
    "ViewId",
    "Waiting",
    "ProtocolInfo",
    "PeerStatus",
    "LinkStatus",
    "DampedStatus",
    "Refusal",
    "Outcome",
    "ChangeOutcome",
    "MemberAck",
    # events
    "Event",
    "ViewChanged",
    "Suspected",
    "ChangeCompleted",
    "ProtocolCompleted",
    "VetoRequest",
    "StepRequest",
    "Removed",
    # errors
    "CgmError",
    "InvalidArgument",
    "InvalidParameter",
    "Closed",
    "Timeout",
    "RolledBack",
    "Vetoed",
    "NoQuorum",
    "NotMember",
    "AuthenticationError",
    "VersionMismatch",
    "IoError",
    "Backpressure",
]
