package example; final class Placeholder {}
