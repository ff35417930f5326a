package dev.locallambdas.function;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * A stand-in gateway for {@link RunDirectoryTest}: creates a run directory in the directory given
 * as argument, prints its path and waits to be killed.
 */
public final class RunDirectoryHolderMain {
  private RunDirectoryHolderMain() {}

  public static void main(String[] args) throws Exception {
    System.out.println(RunDirectory.create(Path.of(args[0])));
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
