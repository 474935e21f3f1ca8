"""The foundation every stage stands on: errors, typed options, pure metrics, provenance. Imports nothing of normbench."""
