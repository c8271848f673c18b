package org.fermbench.runner;

/** The runtime of this flavor (litert). Each product flavor of dimension "runtime" has its own. */
final class Engines {
    private Engines() {}

    static Engine create() {
        return new LiteRtEngine();
    }
}
