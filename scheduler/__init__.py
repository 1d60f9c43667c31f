"""Campaign calendar: editions, their dates and (later) the announcement plan."""
