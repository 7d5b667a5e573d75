# tenuo-authorizer image: the Rust binary on a slim Debian base, non-root,
# fine with a read-only root filesystem (it writes nothing).
#
#   docker build -t tenuo/authorizer:0.1.0 .

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# The runtime backend dispatch of curve25519-dalek (AVX512-IFMA, AVX2, portable)
# comes from .cargo/config.toml; do not set RUSTFLAGS here, it would replace it.
RUN cargo build --release --locked -p tenuo-authz --features server --bin tenuo-authorizer \
 && cp target/release/tenuo-authorizer /tenuo-authorizer

FROM debian:bookworm-slim
COPY --from=build /tenuo-authorizer /usr/local/bin/tenuo-authorizer
USER 65532:65532
EXPOSE 9090 9091
ENTRYPOINT ["/usr/local/bin/tenuo-authorizer"]
CMD ["serve"]
