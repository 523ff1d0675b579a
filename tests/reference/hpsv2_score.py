"""Transcription of HPSv2's scoring path, for tests.

Repository: https://github.com/tgxs002/HPSv2 (Apache-2.0)
Files: hpsv2/src/open_clip/transform.py (``_convert_to_rgb_or_rgba``,
``MaskAwareNormalize``, the ``is_train=False`` branch of ``image_transform``) and
hpsv2/img_score.py (the body of ``score`` for one image path)
Commit: 866735ecaae999fa714bd9edfa05aa2672669ee3 (2024-02-21), the repository's HEAD when read

Changes: the model and tokenizer are arguments (the reference builds open_clip
``ViT-H-14`` with ``create_model_and_transforms('ViT-H-14', 'laion2B-s32B-b79K', ...)``,
which downloads the LAION weights first, then ``load_state_dict(checkpoint['state_dict'])``;
the tests build open_clip's ``CLIP`` of a reduced ViT-H-like configuration and load the
same ``{'state_dict': ...}`` file); ``torch.cuda.amp.autocast()`` is left out (CPU,
float32); the mean/std are OpenAI's constants written out.
"""
import torch
from PIL import Image
from torch import nn
from torchvision.transforms import CenterCrop, Compose, InterpolationMode, Normalize, Resize, ToTensor

OPENAI_DATASET_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_DATASET_STD = (0.26862954, 0.26130258, 0.27577711)


def _convert_to_rgb_or_rgba(image):
    if image.mode == 'RGBA':
        return image
    else:
        return image.convert('RGB')


class MaskAwareNormalize(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.normalize = Normalize(mean=mean, std=std)

    def forward(self, tensor):
        if tensor.shape[0] == 4:
            return torch.cat([self.normalize(tensor[:3]), tensor[3:]], dim=0)
        else:
            return self.normalize(tensor)


def image_transform_val(image_size, mean=None, std=None):
    mean = mean or OPENAI_DATASET_MEAN
    std = std or OPENAI_DATASET_STD
    normalize = MaskAwareNormalize(mean=mean, std=std)
    transforms = [
        _convert_to_rgb_or_rgba,
        ToTensor(),
    ]
    transforms.extend([
        Resize(image_size, interpolation=InterpolationMode.BICUBIC),
        CenterCrop(image_size),
    ])
    transforms.extend([
        normalize,
    ])
    return Compose(transforms)


def score(model, preprocess_val, tokenizer, img_path, prompt, device="cpu"):
    # Load your image and prompt
    with torch.no_grad():
        # Process the image
        image = preprocess_val(Image.open(img_path)).unsqueeze(0).to(device=device, non_blocking=True)
        # Process the prompt
        text = tokenizer([prompt]).to(device=device, non_blocking=True)
        # Calculate the HPS
        outputs = model(image, text)
        image_features, text_features = outputs["image_features"], outputs["text_features"]
        logits_per_image = image_features @ text_features.T

        hps_score = torch.diagonal(logits_per_image).cpu().numpy()
    return [hps_score[0]]
