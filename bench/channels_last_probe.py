#!/usr/bin/python3
"""Does channels-last memory format speed up training on this CPU? A probe for nascent's trainer.

Trains a two-conv CNN (32 and 64 channels, BatchNorm, a 128-unit dense layer; the issue's
reference network) on random 28x28 batches of 128 in PyTorch, with the same model and data in
the default (NCHW contiguous) layout and in channels-last (NHWC), alternating, and prints
images/s after 20 warm-up steps over 40 timed steps. Run it with Debian's interpreter and the
fixed allocator thresholds that nascent sets for itself:

    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456 \
        /usr/bin/python3 bench/channels_last_probe.py
"""

import time

import torch
from torch import nn

torch.set_num_threads(2)


def make_model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def images_per_second(layout, images, labels, warmup=20, steps=40):
    torch.manual_seed(0)
    model = make_model()
    if layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_function = nn.CrossEntropyLoss()
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        optimizer.zero_grad()
        loss = loss_function(model(images), labels)
        loss.backward()
        optimizer.step()
    return steps * images.shape[0] / (time.perf_counter() - start)


def main():
    images = torch.randn(128, 1, 28, 28)
    labels = torch.randint(0, 10, (128,))
    for layout in ["contiguous", "channels_last", "contiguous", "channels_last"]:
        print(f"{layout:14s} {images_per_second(layout, images, labels):7.0f} images/s")


if __name__ == "__main__":
    main()
