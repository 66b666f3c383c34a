# Demo "api": a JSON-logging application service. One JSON object per line
# with "level", now and then a multi-line Java-style stack trace on stderr and,
# every few minutes, one very long JSON line (over 16 KiB).
. /demo/lib.sh

json() {
    printf '{"ts":"%s","level":"%s","logger":"%s","msg":"%s","trace_id":"%08x%08x","duration_ms":%d}\n' \
        "$(now)" "$1" "$2" "$3" "$RANDOM$RANDOM" "$RANDOM" "$(rand 900)"
}

stack_trace() {
    cat >&2 <<TRACE
$(now) ERROR [http-nio-8080-exec-$(rand 20)] c.e.orders.OrderController - request failed
java.lang.IllegalStateException: order $(rand 100000) is already settled
	at com.example.orders.Order.settle(Order.java:118)
	at com.example.orders.OrderService.pay(OrderService.java:64)
	at com.example.orders.OrderController.pay(OrderController.java:41)
	at java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)
	at org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)
Caused by: java.sql.SQLTransactionRollbackException: deadlock detected
	at org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2676)
	... 42 more
TRACE
}

json info main "listening on :9000"
json info db "connected to postgres://orders@db:5432/orders pool=10"
n=0
while :; do
    n=$((n + 1))
    case $(rand 20) in
        0) json warn db "slow query: SELECT * FROM orders WHERE customer_id = \$1 took $(rand 3000)ms" ;;
        1) json error payments "charge declined: card_expired customer=cus_$(rand 99999)" ;;
        2) json debug cache "cache miss key=user:$(rand 5000)" ;;
        3) [ "$(rand 3)" = 0 ] && stack_trace ;;
        *) json info http "$(pick GET POST PUT) /v1/$(pick orders users carts invoices)/$(rand 1000) $(pick 200 200 201 204 400 404)" ;;
    esac
    [ $((n % 400)) = 5 ] && long_line "{\"ts\":\"$(now)\",\"level\":\"info\",\"msg\":\"cart snapshot\",\"items\":["
    nap
done
