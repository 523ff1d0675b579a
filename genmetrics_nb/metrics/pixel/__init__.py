"""Pixel-level, full-reference metrics: PSNR, SSIM, MS-SSIM and LPIPS."""
