"""Distribution metrics on features: Frechet distances (FID), KID, IS, k-NN precision/recall, density/coverage and their clipped versions, the rarity score, and the bootstrap."""
