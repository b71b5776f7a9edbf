"""Problem types: what each `type` URI of a problem answer (`/problems/<slug>`) names, as pages
people and programs can read."""
