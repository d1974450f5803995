"""Key Times: the key times page (edit in place, copy from series, upload), the timetable."""
