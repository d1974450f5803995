"""Key Times → Timetable: when each component is sat, uploaded from Excel."""
