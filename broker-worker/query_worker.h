// query_worker.h: the worker's event loop side — read requests, answer them one at a time.
//
// Each request is answered as it is read, like the message handler of the tutorial's db.js:
// while a query blocks, nothing else runs (that is the point of the tutorial's worker), and its
// reply is written before the next request is looked at. EOF is noticed once the requests
// already read have been answered.
#pragma once

#include <uv.h>

#include <optional>
#include <string>

#include "broker-worker/data_set.h"
#include "broker-worker/worker_options.h"
#include "common/ipc/channel.h"
#include "common/ipc/protocol.h"

namespace worker {

class QueryWorker {
 public:
  // Adopts the channel fd and starts reading. Throws common::UvError.
  QueryWorker(uv_loop_t& loop, const WorkerOptions& options, const DataSet& data, int channel_fd);
  // 0 after a clean EOF, 1 if the channel failed.
  [[nodiscard]] int exit_code() const noexcept { return exit_code_; }

 private:
  void on_message(const common::Json& message);
  void on_end(std::optional<common::Error> error);
  void answer_request(const common::QueryRequest& request);
  void answer_likes(const common::QueryRequest& request);
  bool apply_hook(const common::QueryRequest& request, std::optional<int64_t> user_id);
  const Hook* hook_for(std::string_view bucket, std::optional<int64_t> user_id) const;
  void block(std::string_view bucket) const;
  void log(std::string_view event, std::string_view bucket, const rapidjson::Value& query) const;

  const WorkerOptions& options_;
  const DataSet& data_;
  common::IpcChannel channel_;
  bool hanging_ = false;
  int exit_code_ = 0;
};

}  // namespace worker
