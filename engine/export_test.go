package engine

// Overslept exposes overslept to the engine_test package's table test.
var Overslept = overslept
