"""Ops that state their derivative once, as a rule vjp(xp, *read, *gys): at
first order the rule gets numpy and arrays (higher orders, with zerograd.ops and
Variables, are tested in tests/test_higher_order.py, as they need op-packs)."""

import numpy as np
import pytest

from zerograd import Function
from zerograd import Variable
from zerograd import grad


class Cube(Function):
    def forward(self, x):
        return x**3

    def vjp(self, xp, x, gy):
        assert xp is np and type(x) is np.ndarray
        return 3 * x**2 * gy


class Exp(Function):
    reads = "outputs"

    def forward(self, x):
        return np.exp(x)

    def vjp(self, xp, y, gy):
        return y * gy


class Swap(Function):
    """Two inputs, two outputs, a derivative that reads nothing."""

    reads = "nothing"

    def forward(self, a, b):
        return b.copy(), a.copy()

    def vjp(self, xp, g0, g1):
        return g1, g0


def test_a_rule_reading_inputs_gives_the_first_derivative():
    x = Variable(np.array([1.0, 2.0]))
    Cube()(x).backward()
    np.testing.assert_array_equal(x.grad, [3.0, 12.0])


def test_a_rule_reading_outputs_gets_the_outputs_data():
    x = Variable(np.array([0.0, 1.0]))
    (g,) = grad(Exp()(x), [x])
    np.testing.assert_allclose(g, np.exp([0.0, 1.0]), rtol=1e-15)


def test_a_rule_reading_nothing_gets_the_gradients_alone():
    a, b = Variable(np.array([1.0, 2.0])), Variable(np.array(3.0))
    p, q = Swap()(a, b)
    ga, gb = grad([p, q], [a, b], grad_outputs=[np.array(5.0), np.array([7.0, 8.0])])
    assert gb == 5.0 and ga.tolist() == [7.0, 8.0]


def test_backward_of_a_rule_op_can_be_called_by_hand_as_in_the_book():
    # The book's steps 6-7 call each Function's backward in turn.
    f = Cube()
    y = f(Variable(np.array(2.0)))
    assert f.backward(np.array(1.0)) == 12.0
    assert y.data == 8.0


def test_what_a_rule_reads_is_checked_when_the_class_is_made():
    with pytest.raises(TypeError, match=r"Bad\.reads is 'input'.*'inputs', 'outputs'"):

        class Bad(Function):
            reads = "input"


def test_an_op_without_a_derivative_says_what_to_define():
    class Forward(Function):
        def forward(self, x):
            return x * 2

    with pytest.raises(NotImplementedError, match="define its derivative: vjp"):
        Forward()(Variable(np.array(1.0))).backward()


def test_an_op_in_the_books_style_asks_for_a_rule_at_higher_orders():
    class Square(Function):
        def forward(self, x):
            return x**2

        def backward(self, gy):
            return 2 * self.inputs[0].data * gy

    x = Variable(np.array(1.0))
    with pytest.raises(TypeError, match=r"first-order gradients only.*Square\.vjp"):
        grad(Square()(x), x, create_graph=True)
