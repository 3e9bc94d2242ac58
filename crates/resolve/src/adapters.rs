//! The resolver as each HTTP stack wants it. Ports are left 0: the clients put the URL's.

#[cfg(any(feature = "reqwest", feature = "hyper"))]
use crate::Resolver;
#[cfg(any(feature = "reqwest", feature = "hyper"))]
use std::net::SocketAddr;

#[cfg(any(feature = "reqwest", feature = "hyper"))]
async fn socket_addrs(r: Resolver, host: String) -> Result<Vec<SocketAddr>, crate::Error> {
    let ips = r.lookup(&host).await?;
    Ok(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect())
}

#[cfg(feature = "reqwest")]
impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (r, host) = (self.clone(), name.as_str().to_string());
        Box::pin(async move {
            let addrs = socket_addrs(r, host).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(feature = "hyper")]
impl tower_service::Service<hyper_util::client::legacy::connect::dns::Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = crate::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: hyper_util::client::legacy::connect::dns::Name) -> Self::Future {
        let (r, host) = (self.clone(), name.as_str().to_string());
        Box::pin(async move { Ok(socket_addrs(r, host).await?.into_iter()) })
    }
}
