"""A small Fashion-MNIST CNN: the offline attribute classifier and IS network."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["FashionCNN", "to_input"]


class FashionCNN(nn.Module):
    """conv(32) - pool - conv(64) - pool - fc(hidden) - fc(10), on 1 x 28 x 28 images in [-1, 1]."""

    def __init__(self, *, hidden: int = 128, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)
        self.init_kwargs = {"hidden": hidden, "num_classes": num_classes}

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def to_input(x_uint8):
    return torch.from_numpy(np.array(x_uint8, dtype=np.float32)) / 127.5 - 1.0


