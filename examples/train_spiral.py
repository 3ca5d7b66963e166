"""Train an MLP on the spiral data set with zerograd-nn (the book's steps 48-50).

    python examples/train_spiral.py --epochs 300

Prints the training loss and the test accuracy every few epochs.
"""

import argparse

import zerograd
import zerograd_nn as nn
from zerograd import ops

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=300)
parser.add_argument("--every", type=int, default=10, help="print every N epochs")
parser.add_argument("--optimizer", default="sgd", help="any registered optimizer")
parser.add_argument("--lr", type=float, default=1.0)
parser.add_argument("--progress", action="store_true", help="tqdm bars (extra)")
args = parser.parse_args()

train_loader = nn.DataLoader(nn.datasets.Spiral(train=True), 30, rng=0)
test_loader = nn.DataLoader(nn.datasets.Spiral(train=False), 30, shuffle=False)
model = nn.MLP((10, 3))
step = "alpha" if args.optimizer.lower() == "adam" else "lr"  # Adam's step: alpha
optimizer = nn.optimizer(args.optimizer, **{step: args.lr}).setup(model)

epochs = range(1, args.epochs + 1)
for epoch in nn.progress(epochs, desc="epochs") if args.progress else epochs:
    sum_loss = 0.0
    for x, t in train_loader:
        loss = ops.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        optimizer.update()
        sum_loss += float(loss) * len(t)
    if epoch % args.every == 0 or epoch == args.epochs:
        correct = 0.0
        with zerograd.no_grad():
            for x, t in test_loader:
                correct += float(ops.accuracy(model(x), t)) * len(t)
        loss_avg = sum_loss / len(train_loader.dataset)
        accuracy = correct / len(test_loader.dataset)
        print(f"epoch {epoch}: loss {loss_avg:.4f}, test accuracy {accuracy:.3f}")
