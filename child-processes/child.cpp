#include "child.h"

#include <chrono>
#include <memory>
#include <utility>

#include "common/uv/error.h"
#include "common/uv/loop.h"

extern char** environ;

namespace child {
namespace {

struct Process {
  uv_process_t handle{};
  std::function<void(Ended)> on_end;
};

void free_process(uv_handle_t* handle) {
  delete static_cast<Process*>(handle->data);
}

void on_exit(uv_process_t* handle, int64_t exit_status, int term_signal) {
  auto* process = static_cast<Process*>(handle->data);
  common::guard(*handle->loop, [&] { process->on_end(Ended{exit_status, term_signal}); });
  uv_close(reinterpret_cast<uv_handle_t*>(handle), free_process);
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

void start(uv_loop_t& loop, const std::vector<std::string>& argv,
           std::vector<uv_stdio_container_t> stdio, const std::vector<std::string>& extra_env,
           std::function<void(Ended)> on_end) {
  std::vector<std::string> args = argv;
  std::vector<std::string> env(extra_env);
  for (char** entry = environ; *entry != nullptr; ++entry) env.emplace_back(*entry);
  std::vector<char*> c_args = c_strings(args);
  std::vector<char*> c_env = c_strings(env);

  uv_process_options_t options{};
  options.file = c_args[0];
  options.args = c_args.data();
  options.env = c_env.data();
  options.stdio = stdio.data();
  options.stdio_count = static_cast<int>(stdio.size());
  options.exit_cb = on_exit;

  auto* process = new Process{{}, std::move(on_end)};
  process->handle.data = process;
  int rc = uv_spawn(&loop, &process->handle, &options);
  if (rc < 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&process->handle), free_process);  // even now
    throw common::UvError(rc, "uv_spawn " + argv[0]);
  }
}

uv_stdio_container_t pipe_to(uv_stream_t* pipe, int flags) {
  uv_stdio_container_t entry{};
  entry.flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | flags);
  entry.data.stream = pipe;
  return entry;
}

uv_stdio_container_t ignore() {
  uv_stdio_container_t entry{};
  entry.flags = UV_IGNORE;
  return entry;
}

uv_stdio_container_t inherit(int fd) {
  uv_stdio_container_t entry{};
  entry.flags = UV_INHERIT_FD;
  entry.data.fd = fd;
  return entry;
}

void Output::read(std::function<void(std::string_view chunk)> on_data,
                  std::function<void()> on_end) {
  on_data_ = std::move(on_data);
  on_end_ = std::move(on_end);
  auto alloc = [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
    auto* self = static_cast<Output*>(handle->data);
    *buf = uv_buf_init(self->buffer_.data(), self->buffer_.size());
  };
  common::check(uv_read_start(pipe_.stream(), alloc, on_read), "uv_read_start");
}

void Output::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Output*>(stream->data);
  if (self == nullptr || nread == 0) return;  // closed by its owner, or nothing this time
  common::guard(*stream->loop, [&] {
    if (nread > 0) return self->on_data_(std::string_view(buf->base, nread));
    uv_read_stop(stream);  // EOF, or an error that ends the pipe just the same
    return self->on_end_();
  });
}

double elapsed_ms() {
  static const auto started = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
      .count();
}

}  // namespace child
