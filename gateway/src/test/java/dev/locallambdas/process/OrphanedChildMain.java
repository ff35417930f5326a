package dev.locallambdas.process;

import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A stand-in gateway for {@link ParentDeathTest}: starts {@code sleep 1000}, a program that knows
 * nothing of it, prints the child's pid and waits to be killed.
 */
public final class OrphanedChildMain {
  private OrphanedChildMain() {}

  public static void main(String[] args) throws Exception {
    ChildLauncher launcher = new ChildLauncher();
    ChildProcess child = launcher.start(LaunchSpec.of("orphan", List.of("sleep", "1000")));
    System.out.println(child.pid());
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
