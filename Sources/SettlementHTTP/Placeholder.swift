import Settlement
