"""
IR nodes, verifier and printer
"""
from __future__ import annotations
import collections.abc
import pto_wsp.language.policy_kinds
import typing
__all__: list[str] = ['Arg', 'Axis', 'Channel', 'DEFAULT_WORKERS', 'DTYPES', 'Event', 'Expr', 'Index', 'Kernel', 'KernelOp', 'KernelParam', 'Layout', 'Module', 'Node', 'ScalarParam', 'Schedule', 'Tensor', 'TileProblem', 'View', 'tile_dims']
class Expr:
    """
    An immutable scalar expression (docs/ir.md).
    """
    @staticmethod
    def binary(op: str, a: Expr, b: Expr) -> Expr:
        ...
    @staticmethod
    def bool(v: bool) -> Expr:
        ...
    @staticmethod
    def event_query(event_id: typing.SupportsInt | typing.SupportsIndex) -> Expr:
        ...
    @staticmethod
    def float(v: typing.SupportsFloat | typing.SupportsIndex) -> Expr:
        ...
    @staticmethod
    def int(v: typing.SupportsInt | typing.SupportsIndex) -> Expr:
        ...
    @staticmethod
    def load(view: View) -> Expr:
        ...
    @staticmethod
    def param(name: str) -> Expr:
        ...
    @staticmethod
    def select(c: Expr, a: Expr, b: Expr) -> Expr:
        ...
    @staticmethod
    def slot(i: typing.SupportsInt | typing.SupportsIndex) -> Expr:
        ...
    @staticmethod
    def symbol(name: str) -> Expr:
        ...
    @staticmethod
    def symbol_f32(name: str) -> Expr:
        ...
    @staticmethod
    def task_param(i: typing.SupportsInt | typing.SupportsIndex) -> Expr:
        ...
    @staticmethod
    def unary(op: str, a: Expr) -> Expr:
        ...
    @staticmethod
    def var(name: str, id: typing.SupportsInt | typing.SupportsIndex) -> Expr:
        ...
    def __repr__(self) -> str:
        ...
    def __str__(self) -> str:
        ...
    @property
    def bool_value(self) -> bool:
        ...
    @property
    def children(self) -> list[Expr]:
        ...
    @property
    def float_value(self) -> float:
        ...
    @property
    def id(self) -> int:
        ...
    @property
    def int_value(self) -> int:
        ...
    @property
    def kind(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def op(self) -> str:
        ...
    @property
    def view(self) -> typing.Any:
        ...
class Index:
    """
    One index of a View: a point or a strided range.
    """
    @staticmethod
    def point(e: Expr) -> Index:
        ...
    @staticmethod
    def range(start: Expr, stop: Expr, step: typing.SupportsInt | typing.SupportsIndex = 1) -> Index:
        ...
    @property
    def kind(self) -> str:
        ...
    @property
    def start(self) -> typing.Any:
        ...
    @property
    def step(self) -> int:
        ...
    @property
    def stop(self) -> typing.Any:
        ...
    @property
    def value(self) -> typing.Any:
        ...
class View:
    """
    A view of a module tensor; dimensions not indexed are taken whole.
    """
    def __init__(self, tensor_id: typing.SupportsInt | typing.SupportsIndex, indices: collections.abc.Sequence[Index] = []) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def __str__(self) -> str:
        ...
    @property
    def indices(self) -> list[Index]:
        ...
    @property
    def shape_hint(self) -> list[int]:
        ...
    @property
    def tensor_id(self) -> int:
        ...
class Axis:
    """
    An iteration space (dense, dense_dyn, ragged, sparse).
    """
    @staticmethod
    def dense(name: str, size: typing.SupportsInt | typing.SupportsIndex) -> Axis:
        ...
    @staticmethod
    def dense_dyn(name: str, size: Expr) -> Axis:
        ...
    @staticmethod
    def ragged(name: str, outer: Expr, lengths_tensor: typing.SupportsInt | typing.SupportsIndex, row: Expr | None = None) -> Axis:
        ...
    @staticmethod
    def sparse(name: str, outer: Expr, indptr_tensor: typing.SupportsInt | typing.SupportsIndex, indices_tensor: typing.SupportsInt | typing.SupportsIndex) -> Axis:
        ...
    def __str__(self) -> str:
        ...
    def extent(self) -> Expr:
        ...
    @property
    def indices_tensor(self) -> int:
        ...
    @property
    def indptr_tensor(self) -> int:
        ...
    @property
    def kind(self) -> str:
        ...
    @property
    def lengths_tensor(self) -> int:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def outer(self) -> typing.Any:
        ...
    @property
    def row(self) -> typing.Any:
        ...
    @property
    def size(self) -> int:
        ...
    @property
    def size_expr(self) -> typing.Any:
        ...
class Arg:
    """
    A task argument: a view (tensor/tile parameter) or a scalar.
    """
    @staticmethod
    def scalar(param_name: str, e: Expr) -> Arg:
        ...
    def __init__(self, param_name: str, view: View) -> None:
        ...
    @property
    def kind(self) -> str:
        ...
    @property
    def param(self) -> str:
        ...
    @property
    def value(self) -> typing.Any:
        ...
    @property
    def view(self) -> typing.Any:
        ...
class Node:
    """
    A workload node (docs/ir.md); built by the static constructors.
    """
    @staticmethod
    def block(children: collections.abc.Sequence[Node], loc: str = '') -> Node:
        ...
    @staticmethod
    def close(channel_id: typing.SupportsInt | typing.SupportsIndex, loc: str = '') -> Node:
        ...
    @staticmethod
    def collective(kind: str, source: View, result_tensor: typing.SupportsInt | typing.SupportsIndex, dist: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], attrs: collections.abc.Mapping[str, bool | typing.SupportsInt | typing.SupportsIndex | typing.SupportsFloat | typing.SupportsIndex | str | collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]], loc: str = '') -> Node:
        ...
    @staticmethod
    def combine(children: collections.abc.Sequence[Node], loc: str = '') -> Node:
        ...
    @staticmethod
    def cond(branches: collections.abc.Sequence[tuple[Expr | None, typing.Any]], loc: str = '') -> Node:
        ...
    @staticmethod
    def connect(processes: collections.abc.Sequence[Node], channels: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], loc: str = '') -> Node:
        ...
    @staticmethod
    def consume(channel_id: typing.SupportsInt | typing.SupportsIndex, var: tuple[str, typing.SupportsInt | typing.SupportsIndex], body: typing.Any, loc: str = '', first_axis: bool = False) -> Node:
        ...
    @staticmethod
    def parallel_for(vars: collections.abc.Sequence[tuple[str, typing.SupportsInt | typing.SupportsIndex]], axes: collections.abc.Sequence[Axis], body: typing.Any, loc: str = '') -> Node:
        ...
    @staticmethod
    def pipe(body: typing.Any, loc: str = '') -> Node:
        ...
    @staticmethod
    def process(name: str, consumes: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], produces: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], body: typing.Any, replicas: typing.SupportsInt | typing.SupportsIndex = 1, loc: str = '') -> Node:
        ...
    @staticmethod
    def record(event_id: typing.SupportsInt | typing.SupportsIndex, loc: str = '') -> Node:
        ...
    @staticmethod
    def select_for(var: tuple[str, typing.SupportsInt | typing.SupportsIndex], sparse: Axis, row: Expr, body: typing.Any, loc: str = '') -> Node:
        ...
    @staticmethod
    def send(channel_id: typing.SupportsInt | typing.SupportsIndex, value: Node | None = None, loc: str = '', block: bool = True) -> Node:
        ...
    @staticmethod
    def seq_for(var: tuple[str, typing.SupportsInt | typing.SupportsIndex], axis: Axis, body: typing.Any, loc: str = '') -> Node:
        ...
    @staticmethod
    def sequential(children: collections.abc.Sequence[Node], loc: str = '') -> Node:
        ...
    @staticmethod
    def slot_load(slot: typing.SupportsInt | typing.SupportsIndex, view: View, row: Expr, col: Expr, loc: str = '') -> Node:
        ...
    @staticmethod
    def slot_set(slot: typing.SupportsInt | typing.SupportsIndex, value: Expr, loc: str = '') -> Node:
        ...
    @staticmethod
    def synchronize(event_id: typing.SupportsInt | typing.SupportsIndex, loc: str = '') -> Node:
        ...
    @staticmethod
    def task(kernel_id: typing.SupportsInt | typing.SupportsIndex, axis_values: collections.abc.Sequence[Expr], args: collections.abc.Sequence[Arg], loc: str = '') -> Node:
        ...
    def __str__(self) -> str:
        ...
    def nested(self) -> list[Node]:
        ...
    def print(self, locs: bool = False) -> str:
        ...
    @property
    def args(self) -> list[Arg]:
        ...
    @property
    def attrs(self) -> dict[str, bool | int | float | str | list[int]]:
        ...
    @property
    def axes(self) -> list[Axis]:
        ...
    @property
    def axis_values(self) -> list[Expr]:
        ...
    @property
    def body(self) -> list[Node]:
        ...
    @property
    def branches(self) -> list:
        ...
    @property
    def channel_id(self) -> int:
        ...
    @property
    def channels(self) -> list[int]:
        ...
    @property
    def children(self) -> list[Node]:
        ...
    @property
    def col(self) -> typing.Any:
        ...
    @property
    def consumes(self) -> list[int]:
        ...
    @property
    def dep_type(self) -> str:
        ...
    @property
    def dist(self) -> list[int]:
        ...
    @property
    def event_id(self) -> int:
        ...
    @property
    def expr(self) -> typing.Any:
        ...
    @property
    def kernel_id(self) -> int:
        ...
    @property
    def kind(self) -> str:
        ...
    @property
    def loc(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def produces(self) -> list[int]:
        ...
    @property
    def replicas(self) -> int:
        ...
    @property
    def row(self) -> typing.Any:
        ...
    @property
    def slot(self) -> int:
        ...
    @property
    def tensor_id(self) -> int:
        ...
    @property
    def value(self) -> typing.Any:
        ...
    @property
    def vars(self) -> list[tuple[str, int]]:
        ...
    @property
    def view(self) -> typing.Any:
        ...
class KernelParam:
    """
    A kernel parameter (read access).
    """
    @property
    def default(self) -> bool | int | float | str | list[int] | None:
        ...
    @property
    def direction(self) -> str:
        ...
    @property
    def dtype(self) -> str:
        ...
    @property
    def kind(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def shape(self) -> list[int]:
        ...
class KernelOp:
    """
    One op of a traced kernel body (read access).
    """
    @property
    def attrs(self) -> dict[str, bool | int | float | str | list[int]]:
        ...
    @property
    def dtype(self) -> str:
        ...
    @property
    def known(self) -> bool:
        ...
    @property
    def loc(self) -> str:
        ...
    @property
    def op(self) -> str:
        ...
    @property
    def operands(self) -> list[int]:
        ...
    @property
    def result(self) -> int:
        ...
    @property
    def shape(self) -> list[int]:
        ...
class TileProblem:
    """
    A tile that breaks the tile rank rule (ir/tile.h).
    """
    @property
    def construct(self) -> str:
        ...
    @property
    def loc(self) -> str:
        ...
    @property
    def message(self) -> str:
        ...
    @property
    def problem(self) -> str:
        ...
class Kernel:
    """
    A kernel: signature and (traced) body of pto.* ops in SSA form.
    """
    body_kind: str
    cpp_abi: str
    cpp_ptoisa: bool
    cpp_src: str
    def __init__(self, name: str, loc: str = '') -> None:
        ...
    def __str__(self) -> str:
        ...
    def add_op(self, op: str, operands: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], dtype: str, attrs: collections.abc.Mapping[str, bool | typing.SupportsInt | typing.SupportsIndex | typing.SupportsFloat | typing.SupportsIndex | str | collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]] = {}, loc: str = '') -> int:
        ...
    def add_param(self, name: str, direction: str, kind: str, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] = [], dtype: str = '', default: bool | typing.SupportsInt | typing.SupportsIndex | typing.SupportsFloat | typing.SupportsIndex | str | collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] | None = None) -> int:
        ...
    def find_param(self, name: str) -> int:
        ...
    def print(self, locs: bool = False) -> str:
        ...
    def tile_problems(self) -> list[TileProblem]:
        """
        The tiles that break the tile rank rule (ir/tile.h).
        """
    @property
    def cost(self) -> int:
        ...
    @cost.setter
    def cost(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def cpp_includes(self) -> list[str]:
        ...
    @cpp_includes.setter
    def cpp_includes(self, arg0: collections.abc.Sequence[str]) -> None:
        ...
    @property
    def loc(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def ops(self) -> list[KernelOp]:
        ...
    @property
    def params(self) -> list[KernelParam]:
        ...
class Schedule:
    """
    Schedule attached to a module (plain data).
    """
    deps: pto_wsp.language.policy_kinds.DepsKind | None
    dispatch: pto_wsp.language.policy_kinds.DispatchKind
    dispatch_key: Expr
    ready_key: Expr
    ready_policy: pto_wsp.language.policy_kinds.ReadyKind | None
    start_policy: pto_wsp.language.policy_kinds.StartKind | None
    stream_key: Expr
    timing: pto_wsp.language.policy_kinds.TimingKind
    trace_policy: pto_wsp.language.policy_kinds.TraceKind | None
    window_mode: pto_wsp.language.policy_kinds.WindowMode
    window_unit: str
    def __init__(self) -> None:
        ...
    def __str__(self) -> str:
        ...
    def print(self) -> str:
        ...
    @property
    def pool_kernels(self) -> list[tuple[str, int]]:
        ...
    @pool_kernels.setter
    def pool_kernels(self, arg0: collections.abc.Sequence[tuple[str, typing.SupportsInt | typing.SupportsIndex]]) -> None:
        ...
    @property
    def pools(self) -> list[int]:
        ...
    @pools.setter
    def pools(self, arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> None:
        ...
    @property
    def spatial_grid(self) -> list[int]:
        ...
    @spatial_grid.setter
    def spatial_grid(self, arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> None:
        ...
    @property
    def start_threshold(self) -> int:
        ...
    @start_threshold.setter
    def start_threshold(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def streams(self) -> int:
        ...
    @streams.setter
    def streams(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def timing_param(self) -> float:
        ...
    @timing_param.setter
    def timing_param(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def window_size(self) -> int:
        ...
    @window_size.setter
    def window_size(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def workers(self) -> int:
        ...
    @workers.setter
    def workers(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
class Layout:
    """
    Distribution (-1 = Replicate, k = Shard on mesh axis k) and memory layout.
    """
    def __init__(self, dist: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], mem_strides: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] = [], mem_order: str = '') -> None:
        ...
    @property
    def dist(self) -> list[int]:
        ...
    @property
    def mem_order(self) -> str:
        ...
    @property
    def mem_strides(self) -> list[int]:
        ...
class Tensor:
    """
    A module tensor (read access).
    """
    @property
    def dtype(self) -> str:
        ...
    @property
    def id(self) -> int:
        ...
    @property
    def layout(self) -> Layout | None:
        ...
    @property
    def location(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def role(self) -> str:
        ...
    @property
    def shape(self) -> list[int]:
        ...
class Channel:
    """
    A module channel (read access).
    """
    @property
    def depth(self) -> int:
        ...
    @property
    def elem(self) -> str:
        ...
    @property
    def id(self) -> int:
        ...
    @property
    def latency(self) -> int:
        ...
    @property
    def name(self) -> str:
        ...
class Event:
    """
    A module event (read access).
    """
    @property
    def id(self) -> int:
        ...
    @property
    def name(self) -> str:
        ...
class ScalarParam:
    """
    A workload scalar parameter (read access).
    """
    @property
    def dtype(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
class Module:
    """
    A compilation unit: tables, one workload and one schedule.
    """
    def __init__(self, name: str) -> None:
        ...
    def __str__(self) -> str:
        ...
    def add_channel(self, name: str, depth: typing.SupportsInt | typing.SupportsIndex, elem: str = '', latency: typing.SupportsInt | typing.SupportsIndex = 0) -> int:
        ...
    def add_event(self, name: str) -> int:
        ...
    def add_kernel(self, k: Kernel) -> int:
        ...
    def add_param(self, name: str, dtype: str = 'i64') -> int:
        ...
    def add_tensor(self, name: str, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], dtype: str, location: str = 'global', layout: Layout | None = None, role: str = 'data') -> int:
        ...
    def print(self, locs: bool = False) -> str:
        ...
    def set_schedule(self, s: Schedule) -> None:
        ...
    def set_workload(self, node: Node) -> None:
        ...
    def verify(self) -> list[str]:
        ...
    def view_shape(self, view: View) -> list[int]:
        ...
    @property
    def channels(self) -> list[Channel]:
        ...
    @property
    def events(self) -> list[Event]:
        ...
    @property
    def kernels(self) -> list[Kernel]:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def params(self) -> list[ScalarParam]:
        ...
    @property
    def schedule(self) -> Schedule:
        ...
    @property
    def tensors(self) -> list[Tensor]:
        ...
    @property
    def workload(self) -> Node:
        ...
def tile_dims(shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> tuple[int, int] | None:
    """
    (rows, cols) of a tile of `shape` (leading 1s dropped), None above 2-D.
    """
DEFAULT_WORKERS: int = 1
DTYPES: list = ['f16', 'bf16', 'f32', 'f64', 'i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'bool']
