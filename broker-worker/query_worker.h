// query_worker.h: the worker's event loop side — read requests, answer them one at a time.
//
// Requests that take time are queued as they arrive and answered from an idle handle, one per
// loop turn, so each reply is written as soon as it is ready and EOF is noticed between queries
// (while a query blocks, nothing else runs: that is the point of the tutorial's worker). With
// latency 0 each request is answered as it is read, and the replies to one read leave in one
// write.
#pragma once

#include <uv.h>

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "broker-worker/data_set.h"
#include "broker-worker/worker_options.h"
#include "common/ipc/protocol.h"
#include "common/uv/handle.h"
#include "common/ipc/channel.h"

namespace worker {

class QueryWorker {
 public:
  // Adopts the channel fd and starts reading. Throws common::UvError.
  QueryWorker(uv_loop_t& loop, const WorkerOptions& options, const DataSet& data, int channel_fd);
  // 0 after a clean EOF, 1 if the channel failed.
  [[nodiscard]] int exit_code() const noexcept { return exit_code_; }

 private:
  void on_message(common::Json& message);
  void on_end(std::optional<common::Error> error);
  void on_idle();
  void answer(const common::Json& message);
  void answer_request(const common::Request& request);
  void answer_likes(const common::Request& request);
  bool apply_hook(const common::Request& request, std::optional<int64_t> user_id);
  const Hook* hook_for(std::string_view bucket, std::optional<int64_t> user_id) const;
  void block() const;
  void log(std::string_view event, std::string_view bucket, const rapidjson::Value& query) const;

  const WorkerOptions& options_;
  const DataSet& data_;
  common::IpcChannel channel_;
  common::Handle<uv_idle_t> idle_;
  std::deque<common::Json> pending_;
  bool hanging_ = false;
  int exit_code_ = 0;
};

}  // namespace worker
