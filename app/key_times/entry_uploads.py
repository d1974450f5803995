"""Key Times → Upload entries: the complete entries of a series, reconciled."""
