"""gRPC peers for tests/e2e/test_http2.py, with Debian's python3-grpcio
(run them with /usr/bin/python3) and no generated code: messages are raw
bytes, methods are registered by name.

  peer.py server PORT     serves usm.test.Echo on 127.0.0.1:PORT in clear
                          text: Say (unary, echoes), Fail (unary, aborts
                          with NOT_FOUND), Count (server streaming: as many
                          messages as the request's decimal number); prints
                          "ready" once listening
  peer.py client PORT N   N Say calls, then one Fail call, on one channel
  peer.py stream PORT N   one Count call streaming N messages

A client exits non-zero if an answer is not the expected one."""
import sys
from concurrent import futures
import grpc

def say(request, context):
    return request

def fail(request, context):
    context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")

def count(request, context):
    for i in range(int(request.decode() or "0")):
        yield b"%d" % i

def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    ident = lambda b: b
    if mode == "server":
        handlers = {
            "Say": grpc.unary_unary_rpc_method_handler(say, ident, ident),
            "Fail": grpc.unary_unary_rpc_method_handler(fail, ident, ident),
            "Count": grpc.unary_stream_rpc_method_handler(count, ident, ident),
        }
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("usm.test.Echo", handlers),))
        server.add_insecure_port("127.0.0.1:%d" % port)
        server.start()
        print("ready", flush=True)
        server.wait_for_termination()
    with grpc.insecure_channel("127.0.0.1:%d" % port) as ch:
        if mode == "client":
            say_call = ch.unary_unary("/usm.test.Echo/Say", ident, ident)
            for i in range(int(sys.argv[3])):
                assert say_call(b"hello %d" % i) == b"hello %d" % i
            try:
                ch.unary_unary("/usm.test.Echo/Fail", ident, ident)(b"x")
                sys.exit("Fail did not fail")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.NOT_FOUND, e.code()
        else:
            got = list(ch.unary_stream("/usm.test.Echo/Count", ident, ident)(sys.argv[3].encode()))
            assert len(got) == int(sys.argv[3]), got

if __name__ == "__main__":
    main()
