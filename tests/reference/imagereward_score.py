"""Transcription of ImageReward's reference scoring, for tests.

Repository: https://github.com/THUDM/ImageReward (now zai-org/ImageReward; Apache-2.0)
Files: ImageReward/ImageReward.py (``_transform``, ``MLP``, ``ImageReward.__init__``,
``score``, ``inference_rank``), ImageReward/models/BLIP/blip.py (``init_tokenizer``)
Commit: c1392c6dd0fd6ecd6d416c96959ab744a6d0a8fb (2025-01-24), the repository's HEAD when read

The code below is the repository's, with these changes only:

- ``ImageReward.__init__`` takes the ``blip`` object (``.tokenizer``,
  ``.visual_encoder``, ``.text_encoder``) as an argument instead of building
  ``BLIP_Pretrain(image_size=224, vit='large', med_config=med_config)``:
  the test passes transformers' BLIP classes loaded with the same tensors
  (BLIP's ``models/med.py`` imports ``apply_chunking_to_forward`` from
  ``transformers.modeling_utils``, which transformers 5 no longer has).
- ``MLP(768)`` becomes ``MLP(input_size)`` for a reduced text width.
- ``init_tokenizer`` reads a ``vocab.txt`` path instead of
  ``BertTokenizer.from_pretrained('bert-base-uncased')`` (no download), with
  transformers 5's slow tokenizer class ``BertTokenizerLegacy`` (the class the
  repository's transformers called ``BertTokenizer``); ``enc_token_id`` is
  looked up with ``convert_tokens_to_ids('[ENC]')`` because transformers 5
  dropped ``additional_special_tokens_ids`` (it is not used when scoring).
"""
import os

import torch
import torch.nn as nn
from PIL import Image
from torchvision.transforms import CenterCrop, Compose, Normalize, Resize, ToTensor

try:
    from torchvision.transforms import InterpolationMode
    BICUBIC = InterpolationMode.BICUBIC
except ImportError:
    BICUBIC = Image.BICUBIC


def init_tokenizer(vocab_file):
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy as BertTokenizer

    tokenizer = BertTokenizer(vocab_file)
    tokenizer.add_special_tokens({'bos_token':'[DEC]'})
    tokenizer.add_special_tokens({'additional_special_tokens':['[ENC]']})
    tokenizer.enc_token_id = tokenizer.convert_tokens_to_ids('[ENC]')
    return tokenizer


def _convert_image_to_rgb(image):
    return image.convert("RGB")


def _transform(n_px):
    return Compose([
        Resize(n_px, interpolation=BICUBIC),
        CenterCrop(n_px),
        _convert_image_to_rgb,
        ToTensor(),
        Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
    ])


class MLP(nn.Module):
    def __init__(self, input_size):
        super().__init__()
        self.input_size = input_size

        self.layers = nn.Sequential(
            nn.Linear(self.input_size, 1024),
            #nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(1024, 128),
            #nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(128, 64),
            #nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(64, 16),
            #nn.ReLU(),
            nn.Linear(16, 1)
        )

    def forward(self, input):
        return self.layers(input)


class ImageReward(nn.Module):
    def __init__(self, blip, input_size, device='cpu'):
        super().__init__()
        self.device = device

        self.blip = blip
        self.preprocess = _transform(224)
        self.mlp = MLP(input_size)

        self.mean = 0.16717362830052426
        self.std = 1.0333394966054072

    def score(self, prompt, image):

        if (type(image).__name__=='list'):
            _, rewards = self.inference_rank(prompt, image)
            return rewards

        # text encode
        text_input = self.blip.tokenizer(prompt, padding='max_length', truncation=True, max_length=35, return_tensors="pt").to(self.device)

        # image encode
        if isinstance(image, Image.Image):
            pil_image = image
        elif isinstance(image, str) and os.path.isfile(image):
            pil_image = Image.open(image)
        else:
            raise TypeError(r'This image parameter type has not been supportted yet. Please pass PIL.Image or file path str.')

        image = self.preprocess(pil_image).unsqueeze(0).to(self.device)
        image_embeds = self.blip.visual_encoder(image)

        # text encode cross attention with image
        image_atts = torch.ones(image_embeds.size()[:-1],dtype=torch.long).to(self.device)
        text_output = self.blip.text_encoder(text_input.input_ids,
                                                attention_mask = text_input.attention_mask,
                                                encoder_hidden_states = image_embeds,
                                                encoder_attention_mask = image_atts,
                                                return_dict = True,
                                            )

        txt_features = text_output.last_hidden_state[:,0,:].float() # (feature_dim)
        rewards = self.mlp(txt_features)
        rewards = (rewards - self.mean) / self.std

        return rewards.detach().cpu().numpy().item()

    def inference_rank(self, prompt, generations_list):

        text_input = self.blip.tokenizer(prompt, padding='max_length', truncation=True, max_length=35, return_tensors="pt").to(self.device)

        txt_set = []
        for generation in generations_list:
            # image encode
            if isinstance(generation, Image.Image):
                pil_image = generation
            elif isinstance(generation, str):
                if os.path.isfile(generation):
                    pil_image = Image.open(generation)
            else:
                raise TypeError(r'This image parameter type has not been supportted yet. Please pass PIL.Image or file path str.')
            image = self.preprocess(pil_image).unsqueeze(0).to(self.device)
            image_embeds = self.blip.visual_encoder(image)

            # text encode cross attention with image
            image_atts = torch.ones(image_embeds.size()[:-1],dtype=torch.long).to(self.device)
            text_output = self.blip.text_encoder(text_input.input_ids,
                                                    attention_mask = text_input.attention_mask,
                                                    encoder_hidden_states = image_embeds,
                                                    encoder_attention_mask = image_atts,
                                                    return_dict = True,
                                                )
            txt_set.append(text_output.last_hidden_state[:,0,:])

        txt_features = torch.cat(txt_set, 0).float() # [image_num, feature_dim]
        rewards = self.mlp(txt_features) # [image_num, 1]
        rewards = (rewards - self.mean) / self.std
        rewards = torch.squeeze(rewards)
        _, rank = torch.sort(rewards, dim=0, descending=True)
        _, indices = torch.sort(rank, dim=0)
        indices = indices + 1

        return indices.detach().cpu().numpy().tolist(), rewards.detach().cpu().numpy().tolist()
