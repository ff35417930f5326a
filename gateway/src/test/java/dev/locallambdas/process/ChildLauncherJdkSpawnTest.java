package dev.locallambdas.process;

/**
 * Every test of {@link ChildLauncherTest} again, with children started the JDK's way
 * (ProcessBuilder through util-linux setsid), as where posix_spawn cannot be called.
 */
class ChildLauncherJdkSpawnTest extends ChildLauncherTest {
  @Override
  ChildLauncher newLauncher() {
    return new ChildLauncher(Wrappers::installed, true, false);
  }
}
