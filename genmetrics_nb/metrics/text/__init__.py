"""Text-conditioned metrics: image-prompt agreement (CLIPScore under named conventions)."""
