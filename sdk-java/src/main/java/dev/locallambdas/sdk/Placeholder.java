package dev.locallambdas.sdk;

final class Placeholder {}
