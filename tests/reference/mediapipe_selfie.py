"""Write MediaPipe's own Selfie Segmentation outputs, the reference of tests/segmentation/test_selfie_segmenter.py.

Run it in a separate environment that has MediaPipe 0.10.14 (the release whose wheel
holds ``selfie_segmentation.tflite``; its pins conflict with this project's, so it is
not a test dependency)::

    python3.11 -m venv /tmp/mpvenv
    /tmp/mpvenv/bin/pip install mediapipe==0.10.14 "numpy<2"
    /tmp/mpvenv/bin/python tests/reference/mediapipe_selfie.py \
        .venv/lib/python3.11/site-packages/skimage/data/astronaut.png \
        data/models/selfie_segmentation.tflite tests/reference/mediapipe_selfie_astronaut.npz

The test rebuilds the inputs with its own cv2 and checks their sha256 against the
ones stored here before comparing outputs:

- ``image_sha256``: the astronaut resized to 256 x 256 (cv2 INTER_LINEAR) and
  box-blurred copies of it (``cv2.blur``, kernels ``kernels``), uint8 RGB;
- ``confidence``: float32 K x 256 x 256, the person confidence of MediaPipe's Tasks
  ``ImageSegmenter`` on each (input already at the model's size, so this is the raw
  network output);
- ``full_sha256`` / ``full_mask``: the 512-pixel astronaut and the legacy
  ``mp.solutions.selfie_segmentation`` pipeline's mask of it (its own resize in and
  out, thresholded at 0.5; ``numpy.packbits``), for an agreement check of the whole
  pipeline.
"""
import hashlib
import sys

import cv2
import mediapipe as mp
import numpy as np
from mediapipe.tasks import python as mp_tasks
from mediapipe.tasks.python import vision

KERNELS = (1, 9, 25)


def main(image_path, model_path, out_path):
    full = cv2.cvtColor(cv2.imread(image_path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    small = cv2.resize(full, (256, 256), interpolation=cv2.INTER_LINEAR)
    images = np.stack([small if k == 1 else cv2.blur(small, (k, k)) for k in KERNELS])
    options = vision.ImageSegmenterOptions(
        base_options=mp_tasks.BaseOptions(model_asset_path=model_path),
        output_confidence_masks=True,
        output_category_mask=False,
    )
    with vision.ImageSegmenter.create_from_options(options) as segmenter:
        confidence = np.stack([
            segmenter.segment(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(img)))
            .confidence_masks[0].numpy_view().copy()
            for img in images
        ])
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as legacy:
        full_mask = legacy.process(full).segmentation_mask > 0.5
    digest = [hashlib.sha256(np.ascontiguousarray(img).tobytes()).hexdigest() for img in images]
    np.savez_compressed(out_path, confidence=confidence.astype(np.float32), kernels=np.array(KERNELS),
                        image_sha256=np.array(digest), full_sha256=np.array(hashlib.sha256(full.tobytes()).hexdigest()),
                        full_mask=np.packbits(full_mask), full_shape=np.array(full_mask.shape),
                        mediapipe_version=np.array(mp.__version__))


if __name__ == "__main__":
    main(*sys.argv[1:4])
