// Ruleset IR lives here.
