"""PyTorch reference for `pnpm bench` (a reference only, never part of the product).

ResNet-50 v1 written by hand (torchvision may be absent): the same network as
packages/core/src/model/resnet50.ts (Keras applications/resnet.py): biased convs, BatchNorm eps 1.001e-5,
stride on the first 1x1 conv of a block (v1, not torchvision's v1.5), a linear head.

Prints one JSON object: torch version, threads, and per measurement the per-image milliseconds of each
timed run (after one warm-up run), or the error that stopped it.

    /usr/bin/python3 pytorch_resnet50.py --threads 2 --runs 3 --forward 1,8 --train 8,32
"""
import argparse
import json
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as error:  # the bench reports the row as not measured
    print(json.dumps({"available": False, "reason": f"torch not importable: {error}"}))
    sys.exit(0)


class Bottleneck(nn.Module):
    def __init__(self, in_channels, filters, stride, conv_shortcut):
        super().__init__()
        eps = 1.001e-5
        self.shortcut = (
            nn.Sequential(nn.Conv2d(in_channels, 4 * filters, 1, stride), nn.BatchNorm2d(4 * filters, eps=eps))
            if conv_shortcut
            else nn.Identity()
        )
        self.conv1 = nn.Conv2d(in_channels, filters, 1, stride)
        self.bn1 = nn.BatchNorm2d(filters, eps=eps)
        self.conv2 = nn.Conv2d(filters, filters, 3, 1, padding=1)
        self.bn2 = nn.BatchNorm2d(filters, eps=eps)
        self.conv3 = nn.Conv2d(filters, 4 * filters, 1)
        self.bn3 = nn.BatchNorm2d(4 * filters, eps=eps)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(self.shortcut(x) + y)


class ResNet50(nn.Module):
    def __init__(self, num_classes, width=1.0, blocks=(3, 4, 6, 3)):
        super().__init__()
        w = lambda filters: max(1, round(filters * width))  # noqa: E731
        self.stem = nn.Sequential(
            nn.Conv2d(3, w(64), 7, 2, padding=3),
            nn.BatchNorm2d(w(64), eps=1.001e-5),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, padding=1),
        )
        layers, in_channels = [], w(64)
        for stage, (filters, count) in enumerate(zip((64, 128, 256, 512), blocks)):
            for index in range(count):
                stride = 2 if stage > 0 and index == 0 else 1
                layers.append(Bottleneck(in_channels, w(filters), stride, index == 0))
                in_channels = 4 * w(filters)
        self.stages = nn.Sequential(*layers)
        self.head = nn.Linear(in_channels, num_classes)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def timed(fn, runs, batch):
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000 / batch)
    return samples


def measure(kind, batch, args):
    torch.manual_seed(0)
    model = ResNet50(args.classes, args.width, tuple(args.blocks))
    x = torch.randn(batch, 3, args.size, args.size)
    if kind == "forward":
        model.eval()

        def run():
            with torch.inference_mode():
                model(x)

        return timed(run, args.runs, batch)
    model.train()
    labels = torch.arange(batch) % args.classes
    # Adam with L2 as weight_decay: what the trainer's AdamL2 implements.
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-4)

    def step():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), labels).backward()
        optimizer.step()

    return timed(step, args.runs, batch)


def measure_gemm(shape, runs):
    """GFLOP/s of a 1x1 convolution (a plain GEMM in disguise): the speed every conv is bounded by."""
    batch, size, c_in, c_out = shape
    torch.manual_seed(0)
    x = torch.randn(batch, c_in, size, size)
    w = torch.randn(c_out, c_in, 1, 1)
    flop = 2 * batch * size * size * c_in * c_out
    with torch.inference_mode():
        F.conv2d(x, w)  # warm-up
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            F.conv2d(x, w)
            samples.append(flop / (time.perf_counter() - started) / 1e9)
    return samples


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--forward", default="1,8")
    parser.add_argument("--train", default="8,32")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--classes", type=int, default=50)
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--blocks", type=lambda s: [int(n) for n in s.split(",")], default=[3, 4, 6, 3])
    parser.add_argument("--gemm", type=lambda s: [int(n) for n in s.split(",")], default=None,
                        help="batch,size,in,out of a 1x1 conv timed in GFLOP/s")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = []
    if args.gemm:
        print("torch gemm", file=sys.stderr, flush=True)
        results.append({"kind": "gemm", "batch": args.gemm[0], "samples": measure_gemm(args.gemm, max(args.runs, 5))})
    for kind, batches in (("forward", args.forward), ("train", args.train)):
        for batch in [int(b) for b in batches.split(",") if b]:
            print(f"torch {kind} batch {batch}", file=sys.stderr, flush=True)
            try:
                results.append({"kind": kind, "batch": batch, "samples": measure(kind, batch, args)})
            except RuntimeError as error:  # allocation failures surface as RuntimeError
                message = str(error).split("\n")[0][:300]
                oom = "memory" in message.lower() or "alloc" in message.lower()
                results.append({"kind": kind, "batch": batch, "error": message, "oom": oom})
    print(json.dumps({
        "available": True,
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "results": results,
    }))


if __name__ == "__main__":
    main()
