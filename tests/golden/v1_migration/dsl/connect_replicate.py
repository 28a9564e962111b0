"""CSP at the root: a replicated worker process and a closer, connected over one channel."""

from pto_wsp import (
    Channel,
    DenseDyn,
    DType,
    In,
    Out,
    P,
    Tensor,
    Tile,
    connect,
    consume,
    kernel,
    process,
    replicate,
    send,
)

X = Tensor(shape=(8, 16, 16), dtype=DType.F32, name="X")
buf = Tensor(shape=(16, 16), dtype=DType.F32, name="buf")
Y = Tensor(shape=(8, 16, 16), dtype=DType.F32, name="Y")
tiles = DenseDyn(8)
jobs = Channel("jobs", depth=4)


@kernel
def load(x: In[Tile[16, 16, DType.F32]], b: Out[Tile[16, 16, DType.F32]]): ...


@kernel
def store(b: In[Tile[16, 16, DType.F32]], y: Out[Tile[16, 16, DType.F32]]): ...


def feeder_body():
    for i in P.seq(tiles):
        send(jobs, load[i](x=X[i], b=buf))
    jobs.close()


def worker_body():
    with consume(jobs) as t:
        store[t](b=buf, y=Y[t])


feeder = process("feeder").produces(jobs).body(feeder_body)
worker = process("worker").consumes(jobs).body(worker_body)
workers = replicate(worker, 2)
net = connect([feeder, workers], [jobs])
program = net.compile(target="cpu_sim")
