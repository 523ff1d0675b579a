"""Transcription of PickScore's reference scoring, for tests.

Repository: https://github.com/yuvalkirstain/PickScore (MIT licence)
File: README.md, the ``calc_probs`` example
Commit: f79607ff68609c1e6dfa78cba38afeea4c248df1 (2024-12-21), the repository's HEAD when read

``calc_probs`` below is the README's, with these changes only: ``processor``,
``model`` and ``device`` are arguments (the README loads them from the hub:
``AutoProcessor.from_pretrained("laion/CLIP-ViT-H-14-laion2B-s32B-b79K")``,
``AutoModel.from_pretrained("yuvalkirstain/PickScore_v1")``), and the scores
are returned beside the probabilities. transformers 5 returns a
``BaseModelOutputWithPooling`` from ``get_*_features`` where the README's
transformers returned the tensor; ``_features`` takes its ``pooler_output``,
which is that tensor.
"""
import torch


def _features(out):
    return out.pooler_output if hasattr(out, "pooler_output") else out


def calc_probs(prompt, images, *, processor, model, device="cpu"):

    # preprocess
    image_inputs = processor(
        images=images,
        padding=True,
        truncation=True,
        max_length=77,
        return_tensors="pt",
    ).to(device)

    text_inputs = processor(
        text=prompt,
        padding=True,
        truncation=True,
        max_length=77,
        return_tensors="pt",
    ).to(device)

    with torch.no_grad():
        # embed
        image_embs = _features(model.get_image_features(**image_inputs))
        image_embs = image_embs / torch.norm(image_embs, dim=-1, keepdim=True)

        text_embs = _features(model.get_text_features(**text_inputs))
        text_embs = text_embs / torch.norm(text_embs, dim=-1, keepdim=True)

        # score
        scores = model.logit_scale.exp() * (text_embs @ image_embs.T)[0]

        # get probabilities if you have multiple images to choose from
        probs = torch.softmax(scores, dim=-1)

    return probs.cpu().tolist(), scores.cpu().tolist()
