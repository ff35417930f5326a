package dev.locallambdas.it.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.List;
import java.util.Map;

/** Takes a POJO of its own (a raw event): fields by setters, by fields, nested, in lists. */
public class OrderHandler implements RequestHandler<OrderHandler.Order, Map<String, Object>> {
  /** Bound by setters. */
  public static class Order {
    private String customer;
    private int quantity;
    private List<Item> items;
    public boolean express; // bound by its field

    public void setCustomer(String customer) {
      this.customer = customer;
    }

    public void setQuantity(int quantity) {
      this.quantity = quantity;
    }

    public void setItems(List<Item> items) {
      this.items = items;
    }
  }

  /** Bound by its fields. */
  public static class Item {
    String sku;
    double price;
  }

  @Override
  public Map<String, Object> handleRequest(Order order, Context context) {
    double total = 0;
    for (Item i : order.items) {
      total += i.price * order.quantity;
    }
    return Map.of(
        "customer",
        order.customer,
        "skus",
        order.items.stream().map(i -> i.sku).toList(),
        "total",
        total,
        "express",
        order.express);
  }
}
