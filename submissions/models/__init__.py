"""Real small models mobench runs itself (`mobench demo --with-models`), measured on the host CPU: not baselines."""
