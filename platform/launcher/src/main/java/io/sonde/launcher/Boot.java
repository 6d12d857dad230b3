package io.sonde.launcher;

import java.nio.file.Path;

/**
 * The agent's and the server's entry point: before anything of the framework is loaded, a staged
 * update of a jar in {@code system/} or {@code system/boot/} (the framework itself) is put in
 * place or a guarded one rolled back ({@link UpdateGuard}); then {@link Main} starts. This class
 * refers to nothing outside the JDK and this jar, which the start scripts put first on the class
 * path, so the framework's jar is not opened before it may have been replaced.
 */
public final class Boot {

    private Boot() {
    }

    public static void main(String[] args) throws Exception {
        Path home = io.sonde.base.Home.ofProcess();
        new UpdateGuard(home).beforeStart(System.currentTimeMillis(), true);
        Main.run(args, true);
    }
}
