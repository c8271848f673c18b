package org.fermbench.runner;

import java.util.Map;

/** Sends one status bundle (Instrumentation.sendStatus on Android). */
interface Reporter {
    void status(int code, Map<String, String> values);
}
