package org.fermbench.runner;

/** A coded error the runner reports as a status (see PROTOCOL.md, "Errors"). */
final class RunnerFailure extends Exception {
    private static final long serialVersionUID = 1L;
    final String code;

    RunnerFailure(String code, String message) {
        super(message);
        this.code = code;
    }

    /** A runtime's exception as a coded failure; allocator failures become out_of_memory. */
    static RunnerFailure from(String code, String prefix, RuntimeException e) {
        String text = e.getMessage() == null ? "" : e.getMessage();
        if (text.contains("can't allocate memory") || text.contains("not enough memory")) {
            return new RunnerFailure("out_of_memory", prefix + ": " + firstLine(e));
        }
        return new RunnerFailure(code, prefix + ": " + firstLine(e));
    }

    /** TorchScript errors carry a C++ trace; keep the line that says what went wrong. */
    static String firstLine(Throwable t) {
        String text = t.getMessage() == null ? "" : t.getMessage().trim();
        String first = null;
        for (String raw : text.split("\n")) {
            String line = raw.trim();
            if (line.isEmpty()) continue;
            if (first == null) first = line;
            if (line.startsWith("RuntimeError:") || line.startsWith("Error:") || line.toLowerCase().contains("version")) {
                return clip(line);
            }
        }
        return clip(first != null ? first : t.getClass().getSimpleName());
    }

    private static String clip(String s) {
        return s.length() > 500 ? s.substring(0, 500) : s;
    }
}
