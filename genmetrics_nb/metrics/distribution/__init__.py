"""Distribution metrics on features: Frechet distances (FID), KID, IS, k-NN precision/recall and density/coverage, and the bootstrap."""
