#include "sources/socketcan_source.h"

#include <fmt/format.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lplex::sources {
namespace {

// A raw CAN socket bound to `ifindex`.
Result<int> OpenCanSocket(const std::string& iface, unsigned ifindex, bool rx) {
  const int fd = ::socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC, CAN_RAW);
  if (fd < 0) return Status::FromErrno(fmt::format("socketcan:{}: cannot open a CAN socket (no CAN support in this kernel?)", iface), errno);
  if (rx) {
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &on, sizeof on);
  } else {
    // The transmit socket never reads: receive nothing, so nothing queues up.
    ::setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, nullptr, 0);
  }
  sockaddr_can addr{};
  addr.can_family = AF_CAN;
  addr.can_ifindex = static_cast<int>(ifindex);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::FromErrno(fmt::format("socketcan:{}: bind", iface), err);
  }
  return fd;
}

}  // namespace

bool SocketCanAvailable(std::string* why) {
  const int fd = ::socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC, CAN_RAW);
  if (fd < 0) {
    if (why) {
      *why = fmt::format("this kernel has no CAN sockets ({}); load the can and can-raw modules (modprobe can-raw) "
                         "or use another source (replay:, sim:, ydraw+tcp://)",
                         std::strerror(errno));
    }
    return false;
  }
  ::close(fd);
  return true;
}

SocketCanSource::SocketCanSource(std::string uri, uint8_t bus, std::string interface, Clock* clock)
    : ThreadedSource(std::move(uri), bus, NewRealPacer(clock)), interface_(std::move(interface)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

SocketCanSource::~SocketCanSource() {
  Stop();
  if (rx_fd_ >= 0) ::close(rx_fd_);
  if (tx_fd_ >= 0) ::close(tx_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status SocketCanSource::Open() {
  if (wake_fd_ < 0) return Status::FromErrno("eventfd", errno);
  std::string why;
  if (!SocketCanAvailable(&why)) return Status::Unsupported(fmt::format("socketcan:{}: {}", interface_, why));
  const unsigned ifindex = ::if_nametoindex(interface_.c_str());
  if (ifindex == 0) {
    return Status::NotFound(fmt::format("socketcan:{}: no such network interface (`ip link` lists them)", interface_));
  }
  LPLEX_ASSIGN_OR_RETURN(rx_fd_, OpenCanSocket(interface_, ifindex, true));
  LPLEX_ASSIGN_OR_RETURN(int tx, OpenCanSocket(interface_, ifindex, false));
  std::lock_guard lock(tx_mu_);
  tx_fd_ = tx;
  return Status::Ok();
}

void SocketCanSource::Interrupt() {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

Status SocketCanSource::Run() {
  pollfd p[2] = {{rx_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  can::Frame message;
  while (!stopping()) {
    const int rc = ::poll(p, 2, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(uri() + ": poll", errno);
    }
    if (stopping()) break;
    if ((p[0].revents & POLLIN) == 0) {
      if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) return Status::IOError(uri() + ": the interface went away");
      continue;
    }
    struct can_frame cf;
    iovec iov{&cf, sizeof cf};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timeval))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(rx_fd_, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Status::FromErrno(uri() + ": read", errno);
    }
    if (n < static_cast<ssize_t>(sizeof cf)) continue;  // CAN FD or a short read: not ours
    if ((cf.can_id & CAN_ERR_FLAG) || (cf.can_id & CAN_RTR_FLAG) || !(cf.can_id & CAN_EFF_FLAG)) {
      skipped_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    can::RawFrame raw;
    raw.timestamp_us = clock()->NowMicros();
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMP) {
        timeval tv;
        std::memcpy(&tv, CMSG_DATA(c), sizeof tv);
        raw.timestamp_us = static_cast<int64_t>(tv.tv_sec) * 1'000'000 + tv.tv_usec;
      }
    }
    raw.id = cf.can_id & CAN_EFF_MASK;
    raw.extended = true;
    raw.length = cf.can_dlc > 8 ? 8 : cf.can_dlc;
    std::memcpy(raw.data.data(), cf.data, raw.length);
    if (assembler_.Process(raw, &message)) Deliver(message);
  }
  return Status::Ok();
}

Status SocketCanSource::Send(const can::Frame& frame) {
  std::lock_guard lock(tx_mu_);
  if (tx_fd_ < 0) return Status::IOError(uri() + ": not started");
  can::TxFrames tx;
  LPLEX_RETURN_IF_ERROR(fragmenter_.Fragment(frame.header, frame.data, &tx));
  for (const can::RawFrame& f : tx.view()) {
    struct can_frame cf {};
    cf.can_id = (f.id & CAN_EFF_MASK) | CAN_EFF_FLAG;
    cf.can_dlc = f.length;
    std::memcpy(cf.data, f.data.data(), f.length);
    if (::write(tx_fd_, &cf, sizeof cf) != static_cast<ssize_t>(sizeof cf)) {
      // As the reference: the rest of a fragmented transfer is abandoned.
      return Status::FromErrno(uri() + ": write", errno);
    }
  }
  return Status::Ok();
}

}  // namespace lplex::sources
