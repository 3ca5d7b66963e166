"""Differential tests over random graphs that share: gradients of random DAGs
against HIPS autograd (an independent autodiff library, installed only for the
tests).

test_properties.py builds trees. The graphs here are the class that hid a
wrong gradient once (issue 11, bug 1): nodes used several times, views of
gradients that an op shares between its inputs (Add gives one gy to both,
reshape and transpose give views of it), float32 and float64 leaves and seeds
meeting, seeds of the user's own (strided ones too), retained intermediate
gradients, several backward calls, zerograd.grad with seeds on several outputs.
And every gradient a user receives must be an array of its own.
"""

import dataclasses
import importlib.metadata
import itertools

import numpy as np
import pytest
from hypothesis import assume
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import zerograd
from zerograd import Variable
from zerograd import ops
from zerograd._core import _edge_variable

pytestmark = pytest.mark.requires("zerograd-arith")
autograd = pytest.importorskip("autograd", reason="autograd is the test oracle")
anp = pytest.importorskip("autograd.numpy")


def _installed(distribution):
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


# Each op: name -> (arity, builder(namespace, *operands)), built once with
# zerograd's ops on Variables and once with autograd.numpy on arrays.
OPS = {
    "add": (2, lambda m, a, b: a + b),
    "sub": (2, lambda m, a, b: a - b),
    "mul": (2, lambda m, a, b: a * b),
    "div": (2, lambda m, a, b: a / (b * b + 1.0)),  # positive by construction
    "neg": (1, lambda m, a: -a),
    "scale": (1, lambda m, a: a * 1.5),
    "affine": (1, lambda m, a: 0.5 - 0.75 * a),
    "cube": (1, lambda m, a: a**3 * 0.25),
}
if _installed("zerograd-elementwise"):
    OPS.update(
        {
            "exp": (1, lambda m, a: m.exp(a * 0.3)),
            "log": (1, lambda m, a: m.log(a * a + 1.0)),
            "sin": (1, lambda m, a: m.sin(a)),
            "tanh": (1, lambda m, a: m.tanh(a)),
            "sqrt": (1, lambda m, a: m.sqrt(a * a + 1.0)),
        }
    )


def _transposes(m, a):
    # Two Transposes, each backward a view of its gy; negative axes in 2-D.
    return a.transpose((-1, -2)).T if a.ndim == 2 else a.T.T


def _gather(m, a):
    # Fancy indexing with a repeated index along the last axis: [1, 2, 2].
    if a.ndim == 0:
        return a * 1.0
    n = a.shape[-1]
    return a[..., [min(i + 1, n - 1) for i in range(n)]]


if _installed("zerograd-tensor"):
    OPS.update(
        {
            # One Reshape to its own shape: backward gives a view of gy.
            "reshape": (1, lambda m, a: a.reshape(a.shape)),
            "ravel": (1, lambda m, a: a.reshape(-1).reshape(a.shape)),
            "transposes": (1, _transposes),
            "flip": (1, lambda m, a: a[::-1] if a.ndim else -a),
            "gather": (1, _gather),
            # An integer index, broadcast back against a itself.
            "row": (1, lambda m, a: a + a[0] if a.ndim else a * 2.0),
            "mean": (1, lambda m, a: a.sum() * (1.0 / a.size)),
            "mean0": (
                1,
                lambda m, a: (
                    a.sum(axis=0, keepdims=True) * (1.0 / a.shape[0])
                    if a.ndim
                    else a * 0.5
                ),
            ),
        }
    )


class _Autograd:
    exp, log, sin, tanh, sqrt = anp.exp, anp.log, anp.sin, anp.tanh, anp.sqrt


# The output's shape, and the shapes leaves may have: they broadcast to it.
SHAPES = {
    (): [()],
    (3,): [(3,), (), (1,)],
    (2, 3): [(2, 3), (3,), (2, 1), ()],
}
DTYPES = st.sampled_from([np.float32, np.float64])
# float32 values (exact in float64 too), so that the oracle sees the very inputs.
VALUES = st.floats(-1.5, 1.5, width=32)
# Values a float32 graph computes to the precision the tolerances assume.
BOUND = 50.0


@dataclasses.dataclass
class Graph:
    """Leaves, then op nodes, each op on earlier nodes by index; the output adds
    the last node and every other node nothing uses, so that every node counts.
    `seed` is the output's seed: None (ones) or an array, maybe a strided view."""

    leaves: list
    nodes: list  # (op name, operand indices)
    seed: object = None

    @property
    def sinks(self):
        used = {i for _, operands in self.nodes for i in operands}
        last = len(self.leaves) + len(self.nodes) - 1
        return [i for i in range(last) if i not in used]

    def build(self, m, leaves, perturbations=None):
        """Every node and the output, with namespace m on `leaves`; the oracle
        adds a perturbation (zeros) to each op node: the gradient of the total
        with respect to it is the node's gradient."""
        values = list(leaves)
        for k, (name, operands) in enumerate(self.nodes):
            value = OPS[name][1](m, *[values[i] for i in operands])
            if perturbations is not None:
                value = value + perturbations[k]
            values.append(value)
        output = values[-1]
        for i in self.sinks:
            output = output + values[i]
        return values, output

    def fresh(self):
        """A copy whose arrays no earlier test wrote into (an explicit example
        is one object for every run)."""
        seed = None if self.seed is None else self.seed.copy()
        return Graph([leaf.copy() for leaf in self.leaves], list(self.nodes), seed)

    def float64_values(self):
        return [np.asarray(leaf, np.float64) for leaf in self.leaves]

    def float32(self, seeds):
        """Whether float32 is anywhere: in a leaf or in one of `seeds`."""
        arrays = [*self.leaves, *[s for s in seeds if s is not None]]
        return any(a.dtype == np.float32 for a in arrays)


def arrays(shape, dtype):
    size = int(np.prod(shape, dtype=int))
    return st.lists(VALUES, min_size=size, max_size=size).map(
        lambda v: np.array(v, dtype).reshape(shape)
    )


@st.composite
def seeds(draw, shape):
    """None (the default seed, ones), an array, or a strided view of one."""
    if draw(st.booleans()):
        return None
    dtype = draw(DTYPES)
    if shape and draw(st.booleans()):  # every other element of a wider array
        return draw(arrays((*shape[:-1], 2 * shape[-1]), dtype))[..., ::2]
    return draw(arrays(shape, dtype))


# The graph of issue 11's bug 1. A float32 seed met float64 gradients; a sum the
# backward loop owned was replaced and freed, and its id() went to a view that
# Reshape's backward made of a gradient Add shares: += wrote into it.
BUG_1 = Graph(
    leaves=[np.array([0.5, 1.0, 1.5]), np.array([1.5, 2.0, 2.5])],
    nodes=[
        ("mul", (0, 1)),  # 2: n3 = x0 * x1
        ("reshape", (0,)),  # 3: n6 = reshape(x0, (3,))
        ("scale", (0,)),  # 4: x0 * 1.5
        ("mul", (3, 2)),  # 5: n6 * n3
        ("add", (4, 5)),  # 6: n20
        ("add", (3, 3)),  # 7: n6 + n6
        ("add", (0, 0)),  # 8: x0 + x0
        ("reshape", (0,)),  # 9: reshape(x0, (3,))
        ("add", (6, 7)),  # 10
        ("add", (10, 8)),  # 11
        ("add", (11, 9)),  # 12: y
    ],
    seed=np.ones(3, np.float32),
)


# Variants of bug 1's graph: an op may become another of its kind, a few random
# nodes follow, leaves and seed take any dtype, values and shape. On the engine
# that had bug 1, random DAGs met it once in some 4000 graphs (the freed id()
# must go to the very next array), these variants in about one in eight.
KINDS = {
    "reshape": ["reshape", "ravel", "transposes"],
    "add": ["add", "sub"],
    "mul": ["mul", "div"],
    "scale": ["scale", "neg", "affine"],
}


def random_nodes(draw, leaves, nodes, count):
    """`count` random op nodes after `nodes`, on any earlier node."""
    nodes = list(nodes)
    for _ in range(count):
        name = draw(st.sampled_from(sorted(OPS)))
        last = len(leaves) + len(nodes) - 1
        # Often the newest nodes (chains), often any node (sharing); and a
        # binary op's operands are often the same node (x + x).
        index = st.integers(max(0, last - 2), last) | st.integers(0, last)
        operands = [draw(index)]
        for _ in range(OPS[name][0] - 1):
            operands.append(draw(st.just(operands[0]) | index))
        nodes.append((name, tuple(operands)))
    return nodes


def leaves_of(draw, count):
    shape = draw(st.sampled_from(sorted(SHAPES)))
    # The first leaf has the output's shape; others may broadcast against it.
    shapes = [shape] + [draw(st.sampled_from(SHAPES[shape])) for _ in range(count - 1)]
    return [draw(arrays(s, draw(DTYPES))) for s in shapes]


def finished(draw, leaves, nodes, seed_dtype=None):
    """The graph of these nodes, if its values stay within BOUND, with a seed:
    any (seeds()), or one of `seed_dtype`."""
    graph = Graph(leaves, nodes)
    values, output = graph.build(_Autograd, graph.float64_values())
    assume(all(np.all(np.abs(v) <= BOUND) for v in values))
    shape = np.shape(output)
    graph.seed = draw(seeds(shape) if seed_dtype is None else arrays(shape, seed_dtype))
    return graph


@st.composite
def random_dags(draw, max_nodes=8):
    leaves = leaves_of(draw, draw(st.integers(1, 3)))
    nodes = random_nodes(draw, leaves, [], draw(st.integers(1, max_nodes)))
    return finished(draw, leaves, nodes)


@st.composite
def bug_1_variants(draw):
    leaves = leaves_of(draw, len(BUG_1.leaves))
    nodes = []
    for name, operands in BUG_1.nodes:
        # Seldom another op: every change makes the graph less like bug 1's.
        if name in KINDS and draw(st.integers(0, 7)) == 7:
            name = draw(st.sampled_from(KINDS[name]))
        nodes.append((name, operands))
    if draw(st.integers(0, 3)) == 3:
        nodes = random_nodes(draw, leaves, nodes, draw(st.integers(1, 2)))
    # Mostly a seed of the other precision than x0's, as bug 1 had.
    seed_dtype = None
    if draw(st.integers(0, 3)) != 3:
        seed_dtype = np.float32 if leaves[0].dtype == np.float64 else np.float64
    return finished(draw, leaves, nodes, seed_dtype)


def graphs():
    if "reshape" not in OPS:
        return random_dags()
    return random_dags() | bug_1_variants()


def assert_close(got, expected, float32, what):
    # float32 anywhere (a leaf, a seed) computes in float32 there; the oracle
    # computes in float64.
    rtol, atol = (1e-4, 1e-4) if float32 else (1e-10, 1e-12)
    assert isinstance(got, np.ndarray), f"{what}: {type(got).__name__}, not an array"
    assert got.shape == np.shape(expected), what
    assert got.dtype.kind == "f", what
    scale = 1.0 + float(np.max(np.abs(expected), initial=0.0))
    np.testing.assert_allclose(
        got, expected, rtol=rtol, atol=atol * scale, err_msg=what
    )


def oracle(graph, seeded):
    """autograd's gradients of sum(output * seed) over the (node index, seed)
    pairs `seeded` (index None: the graph's output), with respect to every
    leaf and every op node."""
    leaves = graph.float64_values()
    shapes = [np.shape(v) for v in graph.build(_Autograd, leaves)[0]]
    perturbations = [np.zeros(s) for s in shapes[len(leaves) :]]

    def total(params):
        values, output = graph.build(
            _Autograd, params[: len(leaves)], params[len(leaves) :]
        )
        result = 0.0
        for index, seed in seeded:
            value = output if index is None else values[index]
            ones = np.ones(np.shape(value))
            result = result + anp.sum(value * (ones if seed is None else seed))
        return result

    gradients = autograd.grad(total)([*leaves, *perturbations])
    return [np.asarray(g, np.float64) for g in gradients]


def zerograd_graph(graph):
    leaves = [Variable(leaf.copy()) for leaf in graph.leaves]
    values, output = graph.build(ops, leaves)
    return values, output


def all_variables(output):
    """Every Variable the graph of `output` holds, the hidden ones inside an op
    builder (`a * a` in `a * a + 1.0`) too, and those alive that it reaches
    through their creators (a node keeps only what its rule reads)."""
    found, functions, walked = {id(output): output}, [output.creator], set()
    while functions:
        f = functions.pop()
        if f is None or id(f) in walked:
            continue
        walked.add(id(f))
        for edge in f._edges:
            x = _edge_variable(edge)  # None: freed
            if x is not None:
                found.setdefault(id(x), x)
            if isinstance(edge, Variable):
                functions.append(edge.creator)
            elif edge is not None:
                functions.append(edge)
    return list(found.values())


def assert_separate(arrays):
    """No two of `arrays` share memory, and writing into one (g *= 10)
    changes no other."""
    for (i, a), (j, b) in itertools.combinations(enumerate(arrays), 2):
        assert not np.shares_memory(a, b), f"arrays {i} and {j} share memory"
    before = [a.copy() for a in arrays]
    for i, a in enumerate(arrays):
        a *= 10
        before[i] = before[i] * 10
        for j, b in enumerate(arrays):
            np.testing.assert_array_equal(b, before[j], err_msg=f"{i} changed {j}")


def bug_1_example(**arguments):
    """An explicit example with bug 1's graph, where its ops are installed."""
    if "reshape" not in OPS:
        return lambda test: test
    return example(**arguments)


@pytest.mark.requires("zerograd-tensor")  # reshape
def test_bug_1_graph_gives_the_true_gradient():
    # The builder and the oracle on a known answer: [8, 10.5, 14].
    graph = BUG_1.fresh()
    values, output = zerograd_graph(graph)
    output.grad = graph.seed
    output.backward()
    expected = oracle(graph, [(None, np.ones(3))])
    np.testing.assert_allclose(expected[0], [8.0, 10.5, 14.0], rtol=1e-12)
    np.testing.assert_allclose(values[0].grad, expected[0], rtol=1e-12)
    np.testing.assert_allclose(values[1].grad, expected[1], rtol=1e-12)


@pytest.mark.requires("zerograd-tensor")  # reshape
def test_grad_of_bug_1_graph_with_a_float32_seed():
    graph = BUG_1.fresh()
    values, output = zerograd_graph(graph)
    got = zerograd.grad(output, values[:2], grad_outputs=graph.seed)
    expected = oracle(graph, [(None, np.ones(3))])
    np.testing.assert_allclose(got[0], [8.0, 10.5, 14.0], rtol=1e-12)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-12)


@settings(max_examples=100, deadline=None)
@given(graph=graphs(), retain_grad=st.booleans())
@bug_1_example(graph=BUG_1, retain_grad=False)
@bug_1_example(graph=BUG_1, retain_grad=True)
def test_backward_of_random_dags_matches_autograd(graph, retain_grad):
    graph = graph.fresh()
    values, output = zerograd_graph(graph)
    leaves, nodes = values[: len(graph.leaves)], values[len(graph.leaves) :]
    seed = graph.seed
    expected = oracle(graph, [(None, seed)])
    float32 = graph.float32([seed])
    seed_before = None if seed is None else seed.copy()

    def run_backward(retain_graph=True):
        output.grad = seed  # backward resets it (or retains a copy)
        output.backward(retain_grad=retain_grad, retain_graph=retain_graph)

    def check(calls):
        # Leaves accumulate over calls; intermediate gradients are this call's.
        for i, leaf in enumerate(leaves):
            assert_close(leaf.grad, calls * expected[i], float32, f"leaf {i}")
        for k, node in enumerate(nodes):
            what = f"node {len(leaves) + k}"
            if node is output:
                continue
            if retain_grad:
                assert_close(node.grad, expected[len(leaves) + k], float32, what)
            else:
                assert node.grad is None, what
        if retain_grad:
            own_seed = np.ones_like(output.data) if seed is None else seed
            assert_close(output.grad, own_seed, float32, "output")
        else:
            assert output.grad is None

    run_backward()
    check(calls=1)
    first = [leaf.grad for leaf in leaves]
    first_values = [g.copy() for g in first]
    run_backward()
    check(calls=2)
    # Accumulation is out of place: the first call's arrays are as they were.
    for g, g_before in zip(first, first_values, strict=True):
        np.testing.assert_array_equal(g, g_before)
    for v in values:
        v.cleargrad()
    run_backward(retain_graph=False)  # the graph's saved values freed on the way
    check(calls=1)
    if seed is not None:  # nothing wrote into the user's seed
        np.testing.assert_array_equal(seed, seed_before)
    # One precision in, the same out (NEP 50: Python constants do not promote).
    given_arrays = [*graph.leaves, *([] if seed is None else [seed])]
    for dtype in (np.float32, np.float64):
        if all(a.dtype == dtype for a in given_arrays):
            assert all(leaf.grad.dtype == dtype for leaf in leaves)


@st.composite
def grad_calls(draw):
    """A graph, the outputs to differentiate (the graph's output, then maybe
    nodes or the output again), grad_outputs (None, or a seed for each: the
    graph's seed first) and the inputs (nodes, repeats allowed)."""
    graph = draw(graphs())
    values, output = graph.build(_Autograd, graph.float64_values())
    node = st.integers(0, len(values) - 1)
    outputs = [None]
    if draw(st.booleans()):
        outputs += draw(st.lists(st.none() | node, min_size=1, max_size=2))
    grad_outputs = None
    if graph.seed is not None:
        grad_outputs = [graph.seed]
        for i in outputs[1:]:
            shape = np.shape(output if i is None else values[i])
            seed = draw(seeds(shape))
            grad_outputs.append(np.ones(shape) if seed is None else seed)
    # Every leaf (bug 1 showed in x0), and any nodes, in any order.
    inputs = [*range(len(graph.leaves)), *draw(st.lists(node, max_size=len(values)))]
    return graph, outputs, grad_outputs, draw(st.permutations(inputs))


@settings(max_examples=100, deadline=None)
@given(call=grad_calls())
@bug_1_example(call=(BUG_1, [None], [np.ones(3, np.float32)], [0, 1]))
def test_grad_of_random_dags_matches_autograd(call):
    graph, outputs, grad_outputs, inputs = call
    values, output = zerograd_graph(graph)
    targets = [output if i is None else values[i] for i in outputs]
    seeds_before = None if grad_outputs is None else [s.copy() for s in grad_outputs]
    seeded = list(zip(outputs, grad_outputs or [None] * len(outputs), strict=True))
    expected = oracle(graph, seeded)
    float32 = graph.float32(grad_outputs or [])
    # Twice: grad changes nothing in the graph that a second call could see;
    # the second frees the graph's saved values on the way.
    for keep in (True, False):
        got = zerograd.grad(
            targets, [values[i] for i in inputs], grad_outputs, retain_graph=keep
        )
        assert len(got) == len(inputs)
        for g, i in zip(got, inputs, strict=True):
            assert_close(g, expected[i], float32, f"node {i}")
    # grad returns its results; it stores nothing, and writes into no seed.
    assert all(v.grad is None for v in all_variables(output))
    for s, s_before in zip(grad_outputs or [], seeds_before or [], strict=True):
        np.testing.assert_array_equal(s, s_before)
    # Each result is an array of its own (grad(y, [x, x]) too), none a seed.
    leaf_data = [leaf.data for leaf in values[: len(graph.leaves)]]
    assert_separate([*got, *(grad_outputs or []), *leaf_data])


@settings(max_examples=60, deadline=None)
@given(graph=graphs())
@bug_1_example(graph=BUG_1)
def test_gradients_a_user_receives_share_no_memory(graph):
    graph = graph.fresh()
    # After backward(retain_grad=True): every leaf and retained gradient (those
    # of the Variables inside an op builder too), the user's seed (the array it
    # is a view of, if it is one) and the leaves' data.
    values, output = zerograd_graph(graph)
    output.grad = graph.seed
    output.backward(retain_grad=True)
    leaves = values[: len(graph.leaves)]
    # The constants ops made of Python numbers (`a * 1.5`) get no gradient.
    wanted = [
        v for v in all_variables(output) if v.creator or any(v is x for x in leaves)
    ]
    received = [v.grad for v in wanted]
    assert all(isinstance(g, np.ndarray) for g in received)
    arrays = [*received, *(leaf.data for leaf in leaves)]
    if graph.seed is not None:
        arrays.append(graph.seed if graph.seed.base is None else graph.seed.base)
    assert_separate(arrays)


@settings(max_examples=60, deadline=None)
@given(graph=graphs())
@bug_1_example(graph=BUG_1)
def test_first_order_fast_path_matches_the_plain_path(graph):
    # The first-order loop's speed tricks (sums added into in place, numpy
    # scalars passed as they are) against the same gradients computed with
    # create_graph=True, where gradients are Variables and nothing is in place.
    graph = graph.fresh()
    values, output = zerograd_graph(graph)
    leaves = values[: len(graph.leaves)]
    seed = graph.seed
    plain = zerograd.grad(output, leaves, grad_outputs=seed, create_graph=True)
    fast = zerograd.grad(output, leaves, grad_outputs=seed)  # frees on the way
    rtol = 1e-5 if graph.float32([seed]) else 1e-12  # rounding order may differ
    for i, (f, p) in enumerate(zip(fast, plain, strict=True)):
        assert f.dtype == p.data.dtype, f"leaf {i}"
        np.testing.assert_allclose(f, p.data, rtol=rtol, atol=0, err_msg=f"leaf {i}")
