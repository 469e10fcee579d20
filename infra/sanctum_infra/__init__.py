"""SanctumTools on AWS: one Pulumi program, three phases, one component per tier."""
