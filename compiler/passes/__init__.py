"""IR-to-IR passes, one concern per module; ``pipeline.lower`` runs them in order."""
