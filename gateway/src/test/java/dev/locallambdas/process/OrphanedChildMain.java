package dev.locallambdas.process;

import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A stand-in gateway for {@link ParentDeathTest}: starts a child through a {@link ChildLauncher}
 * ({@code sleep 1000}, a program that knows nothing of it, or the command given as arguments),
 * prints the child's pid and waits to be killed.
 */
public final class OrphanedChildMain {
  private OrphanedChildMain() {}

  public static void main(String[] args) throws Exception {
    ChildLauncher launcher = new ChildLauncher();
    List<String> command = args.length == 0 ? List.of("sleep", "1000") : List.of(args);
    ChildProcess child = launcher.start(LaunchSpec.of("orphan", command));
    System.out.println(child.pid());
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
