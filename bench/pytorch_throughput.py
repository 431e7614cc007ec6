#!/usr/bin/python3
"""Training throughput of a nascent network rebuilt in PyTorch's Python API.

The PyTorch half of the side-by-side comparison run by bench/run_throughput.sh. It reads the
plan JSON that nascent_bench_throughput wrote with --plan-out and builds the same network layer
by layer: a macro-space network from its NetworkPlan (the construction mirrors
src/nn/macro_net.cpp), or a NAS-Bench-201 cell network from its cell and size (mirroring
src/nn/cell_net.cpp). It checks that the parameter count and every layer's or block's parameters
and output shape equal the plan's, and times the same training step on the same Fashion-MNIST
batches. It prints the same JSON line as the C++ program, so the two can be compared field by
field.

Run it with Debian's interpreter, which has python3-torch (the same LibTorch 1.13 shared
libraries nascent links):

    /usr/bin/python3 bench/pytorch_throughput.py --plan residual.json --threads 2 --batch 128 \
        --steps 100 --warmup 30
"""

import argparse
import gzip
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn

FASHION_MNIST_DIRECTORY = "/usr/share/datasets/fashion-mnist"

# nascent's default TrainOptions; the C++ side uses the same.
LEARNING_RATE = 0.05
MOMENTUM = 0.9
WEIGHT_DECAY = 5e-4

ACTIVATIONS = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


def conv(in_channels, out_channels, kernel, stride, groups, bias):
    # Padding kernel // 2 keeps the spatial size at stride 1, as in the C++ builder.
    return nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2,
                     groups=groups, bias=bias)


def conv_block(in_channels, out_channels, kernel, stride, groups, batch_norm, activation):
    """Conv (+ BatchNorm) (+ activation); bias only without BatchNorm, as in the C++ builder."""
    modules = [conv(in_channels, out_channels, kernel, stride, groups, not batch_norm)]
    if batch_norm:
        modules.append(nn.BatchNorm2d(out_channels))
    if activation is not None:
        modules.append(ACTIVATIONS[activation]())
    return modules


def build_layer(layer):
    modules = []
    if layer["pre_pool"] == "max_pool":
        modules.append(nn.MaxPool2d(2))
    elif layer["pre_pool"] == "avg_pool":
        modules.append(nn.AvgPool2d(2))

    op = layer["op"]
    in_channels = layer["input"][0]
    out_channels = layer["out_channels"]
    kernel = layer["kernel"]
    stride = layer["stride"]
    batch_norm = layer["batch_norm"]
    activation = layer["activation"]
    if op == "conv":
        modules += conv_block(in_channels, out_channels, kernel, stride, 1, batch_norm, activation)
    elif op == "sep_conv":
        # Depthwise (no bias) then pointwise; one normalisation and activation after both.
        modules.append(conv(in_channels, in_channels, kernel, stride, in_channels, False))
        modules += conv_block(in_channels, out_channels, 1, 1, 1, batch_norm, activation)
    elif op == "mbconv":
        hidden = in_channels * layer["expansion"]
        modules += conv_block(in_channels, hidden, 1, 1, 1, batch_norm, activation)
        modules += conv_block(hidden, hidden, kernel, stride, hidden, batch_norm, activation)
        modules += conv_block(hidden, out_channels, 1, 1, 1, batch_norm, None)
    elif op == "max_pool":
        modules.append(nn.MaxPool2d(kernel, stride=stride, padding=kernel // 2))
    elif op == "avg_pool":
        modules.append(nn.AvgPool2d(kernel, stride=stride, padding=kernel // 2,
                                    count_include_pad=False))
    elif op == "identity":
        modules.append(nn.Identity())
    else:
        raise ValueError(f"unknown operation '{op}' in layer {layer['name']}")
    return nn.Sequential(*modules)


class MacroNet(nn.Module):
    """Stem, body layers with skip additions from earlier nodes, head."""

    def __init__(self, plan):
        super().__init__()
        self.stem = nn.Sequential(
            *conv_block(plan["input"][0], plan["stem_channels"], 3, 1, 1, True, "relu"))
        self.body = nn.ModuleList(build_layer(layer) for layer in plan["layers"])
        # Node 0 is the stem's output, node i the output of body layer i.
        self.skip_from = [layer["skip_from"] for layer in plan["layers"]]

        head = [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        features = plan["layers"][-1]["output"][0] if plan["layers"] else plan["stem_channels"]
        for width in plan["dense_widths"]:
            head += [nn.Linear(features, width), nn.ReLU()]
            features = width
        if plan["dropout"] > 0:
            head.append(nn.Dropout(plan["dropout"]))
        head.append(nn.Linear(features, plan["num_classes"]))
        self.head = nn.Sequential(*head)

    def nodes(self, images):
        """Every node's output: [stem, layer 1, ..., layer n], each [N, C, H, W]."""
        nodes = [self.stem(images)]
        for layer, skip_from in zip(self.body, self.skip_from):
            output = layer(nodes[-1])
            if skip_from >= 0:
                output = output + nodes[skip_from]
            nodes.append(output)
        return nodes

    def forward(self, images):
        return self.head(self.nodes(images)[-1])  # [N, classes]


def relu_conv_bn(in_channels, out_channels, kernel, stride):
    """NAS-Bench-201's ReLU -> conv (no bias, size-keeping padding at stride 1) -> BatchNorm."""
    return nn.Sequential(
        nn.ReLU(),
        nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2,
                  bias=False),
        nn.BatchNorm2d(out_channels))


class Nasbench201Cell(nn.Module):
    """Node j is the sum over i < j of op_ij(node i); node 3 is the output."""

    def __init__(self, edges, channels):
        super().__init__()
        # (name, source, target, operation) in the plan's order, which is the C++ cell's.
        self.edges = [(edge["name"], edge["from"], edge["to"], edge["op"]) for edge in edges]
        # Keyed by the edge's decision name, as the C++ cell registers them. Pooling has no
        # parameters but is a module on both sides; skip and none are no module at all.
        self.ops = nn.ModuleDict()
        for edge in edges:
            op = edge["op"]
            if op == "nor_conv_1x1":
                self.ops[edge["name"]] = relu_conv_bn(channels, channels, 1, 1)
            elif op == "nor_conv_3x3":
                self.ops[edge["name"]] = relu_conv_bn(channels, channels, 3, 1)
            elif op == "avg_pool_3x3":
                self.ops[edge["name"]] = nn.Sequential(
                    nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False))
            elif op not in ("none", "skip_connect"):
                raise ValueError(f"unknown operation '{op}' on {edge['name']}")

    def forward(self, features):
        nodes = [features]
        for target in range(1, 4):
            # Starts from zeros like the C++ cell, which pays for it too ("none" adds nothing).
            total = torch.zeros_like(features)
            for name, source, to, op in self.edges:
                if to != target or op == "none":
                    continue
                total = total + (nodes[source] if op == "skip_connect" else
                                 self.ops[name](nodes[source]))
            nodes.append(total)
        return nodes[-1]  # [N, C, H, W]


class ReductionBlock(nn.Module):
    """NAS-Bench-201's residual reduction: two ReLU-conv-BN (the first with stride 2) plus a
    shortcut of 2x2 average pooling and a 1x1 convolution."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv_a = relu_conv_bn(in_channels, out_channels, 3, 2)
        self.conv_b = relu_conv_bn(out_channels, out_channels, 3, 1)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, stride=2),
                                      nn.Conv2d(in_channels, out_channels, 1, bias=False))

    def forward(self, features):
        # Odd sizes: the strided conv rounds up, the pooling down; pad the shortcut's input at
        # the right and bottom, as the C++ block does.
        shortcut_input = features
        height, width = features.shape[2], features.shape[3]
        if height % 2 == 1 or width % 2 == 1:
            shortcut_input = nn.functional.pad(features, (0, width % 2, 0, height % 2))
        return self.conv_b(self.conv_a(features)) + self.shortcut(shortcut_input)


class Nasbench201Net(nn.Module):
    """Stem (3x3 conv, BatchNorm), three stages of cells joined by reduction blocks that double
    the channels, head (BatchNorm, ReLU, global pooling, classifier)."""

    def __init__(self, plan):
        super().__init__()
        channels = plan["channels"]
        body = [nn.Conv2d(plan["input"][0], channels, 3, padding=1, bias=False),
                nn.BatchNorm2d(channels)]
        for stage in range(3):
            if stage > 0:
                body.append(ReductionBlock(channels, channels * 2))
                channels *= 2
            for _ in range(plan["cells_per_stage"]):
                body.append(Nasbench201Cell(plan["edges"], channels))
        self.body = nn.Sequential(*body)
        self.head = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                  nn.Flatten(), nn.Linear(channels, plan["num_classes"]))

    def forward(self, images):
        return self.head(self.body(images))  # [N, classes]


def count_parameters(module):
    return sum(parameter.numel() for parameter in module.parameters())


def total_parameter_problems(model, plan):
    """The whole network's parameter count against the plan's, as a list of 0 or 1 problems."""
    total = count_parameters(model)
    if total != plan["params"]:
        return [f"whole network: plan {plan['params']} parameters, module {total}"]
    return []


def check_against_plan(model, plan):
    """Returns the differences between the module and the plan (empty when they agree)."""
    problems = []
    for layer, module in zip(plan["layers"], model.body):
        if count_parameters(module) != layer["params"]:
            problems.append(f"layer {layer['name']} ({layer['op']}): plan {layer['params']} "
                            f"parameters, module {count_parameters(module)}")
    problems += total_parameter_problems(model, plan)

    was_training = model.training
    model.eval()
    with torch.no_grad():
        nodes = model.nodes(torch.zeros([2] + plan["input"]))
    model.train(was_training)
    for layer, node in zip(plan["layers"], nodes[1:]):
        if list(node.shape[1:]) != layer["output"]:
            problems.append(f"layer {layer['name']}: plan output {layer['output']}, module "
                            f"{list(node.shape[1:])}")
    return problems


def check_cell_against_plan(model, plan):
    """Returns the differences between the cell network and the plan's blocks (the C++
    module's body modules and head, in order), empty when they agree."""
    problems = []
    blocks = list(model.body) + [model.head]
    names = [f"body.{index}" for index in range(len(model.body))] + ["head"]
    if len(blocks) != len(plan["blocks"]):
        problems.append(f"plan {len(plan['blocks'])} blocks, module {len(blocks)}")
    for block, name, planned in zip(blocks, names, plan["blocks"]):
        if name != planned["name"]:
            problems.append(f"block {name}: plan names it {planned['name']}")
        if count_parameters(block) != planned["params"]:
            problems.append(f"block {name} ({planned['module']}): plan {planned['params']} "
                            f"parameters, module {count_parameters(block)}")
    problems += total_parameter_problems(model, plan)

    was_training = model.training
    model.eval()
    with torch.no_grad():
        features = torch.zeros([2] + plan["input"])  # [2, C, H, W]
        for block, name, planned in zip(blocks, names, plan["blocks"]):
            features = block(features)
            if list(features.shape[1:]) != planned["output"]:
                problems.append(f"block {name}: plan output {planned['output']}, module "
                                f"{list(features.shape[1:])}")
    model.train(was_training)
    if list(features.shape) != [2, plan["num_classes"]]:
        problems.append(f"forward: expected logits [2, {plan['num_classes']}], found "
                        f"{list(features.shape)}")
    return problems


def build_and_check(plan):
    """The network the plan describes and the differences between the two."""
    family = plan.get("family", "macro")
    if family == "macro":
        model = MacroNet(plan)
        return model, check_against_plan(model, plan)
    if family == "nasbench201":
        model = Nasbench201Net(plan)
        return model, check_cell_against_plan(model, plan)
    raise ValueError(f"plan family: expected macro or nasbench201, found '{family}'")


def read_idx(path, header_bytes):
    with gzip.open(path, "rb") as file:
        return np.frombuffer(file.read(), dtype=np.uint8, offset=header_bytes)


def prepare_batches(batch_size, count):
    """Consecutive training batches, normalised with the training set's mean and std and
    wrapping around at the end, exactly as the C++ program prepares them."""
    pixels = read_idx(os.path.join(FASHION_MNIST_DIRECTORY, "train-images-idx3-ubyte.gz"), 16)
    labels = read_idx(os.path.join(FASHION_MNIST_DIRECTORY, "train-labels-idx1-ubyte.gz"), 8)
    images = torch.from_numpy(pixels.copy()).view(-1, 1, 28, 28)  # [N, 1, 28, 28] uint8
    labels = torch.from_numpy(labels.astype(np.int64))

    scaled = images.view(images.shape[0], 1, -1).to(torch.float64).div(255.0)
    mean = scaled.mean(dim=(0, 2)).to(torch.float32).view(1, -1, 1, 1)
    std = scaled.std(dim=(0, 2)).to(torch.float32).view(1, -1, 1, 1)

    batches = []
    for i in range(count):
        indices = torch.arange(i * batch_size, (i + 1) * batch_size).remainder(len(labels))
        batch = images.index_select(0, indices).to(torch.float32)
        batch = batch.mul_(1.0 / 255.0).sub_(mean).div_(std)  # [B, 1, 28, 28]
        batches.append((batch, labels.index_select(0, indices)))
    return batches


def time_training_steps(model, batches, warmup, steps):
    """Milliseconds of each timed step; the step is the one nascent's trainer takes."""
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM,
                                nesterov=True, weight_decay=WEIGHT_DECAY)
    step_ms = []
    loss_value = 0.0
    for step in range(warmup + steps):
        images, labels = batches[step % len(batches)]
        start = time.perf_counter()

        # set_to_none=False: LibTorch 1.13's C++ zero_grad() zeroes the gradients in place too.
        optimizer.zero_grad(set_to_none=False)
        logits = model(images)  # [B, classes]
        loss = nn.functional.cross_entropy(logits, labels)
        loss_value = loss.item()
        loss.backward()
        optimizer.step()

        elapsed_ms = (time.perf_counter() - start) * 1000.0
        if step >= warmup:
            step_ms.append(elapsed_ms)
    if not np.isfinite(loss_value):
        raise RuntimeError(f"training: expected a finite loss, found {loss_value}")
    return step_ms


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", required=True, help="plan JSON from --plan-out")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--layout", choices=["contiguous", "channels_last"], default="contiguous",
                        help="memory layout of the model and batches (PyTorch's default is "
                             "contiguous, NCHW)")
    args = parser.parse_args()

    # The C++ side calls nascent::set_torch_threads, which also pins inter-op threads to 1.
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)

    with open(args.plan) as file:
        plan = json.load(file)
    model, problems = build_and_check(plan)
    if problems:
        print("pytorch_throughput: error: the module differs from the plan: " +
              "; ".join(problems), file=sys.stderr)
        return 1

    # Enough distinct batches that no step reuses a batch, up to one pass over the data.
    batches = prepare_batches(args.batch, min(args.warmup + args.steps, 60000 // args.batch))
    if args.layout == "channels_last":
        # The documented recipe: the module's 4-D tensors and each input batch in NHWC.
        model = model.to(memory_format=torch.channels_last)
        batches = [(images.contiguous(memory_format=torch.channels_last), labels)
                   for images, labels in batches]
    step_ms = statistics.median(time_training_steps(model, batches, args.warmup, args.steps))

    result = {
        "arch": plan.get("arch", os.path.splitext(os.path.basename(args.plan))[0]),
        "images_per_s": round(args.batch * 1000.0 / step_ms, 1),
        "step_ms_median": round(step_ms, 3),
        "params": count_parameters(model),
        "flops": plan["flops"],
        "threads": args.threads,
        "batch": args.batch,
        "layout": args.layout,
    }
    print(json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
