"""Key times, the timetable and entries: when each centre's exam starts, in UTC."""
