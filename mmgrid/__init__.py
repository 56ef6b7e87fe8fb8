"""mmgrid: model merging over a contextual grid of generative-recommendation checkpoints."""

__version__ = "0.1.0"
